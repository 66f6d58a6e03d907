package dev.cornerstone.cluster.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.cornerstone.cluster.NodeInfo;

/**
 * The cluster as the launcher sees it: a {@code java.util.function.Function<Map, Map>}
 * registered with {@code cornerstone.service=cluster}, since the launcher shares only the
 * JDK's classes with the container (as the job service does). It is registered on every
 * container, clustered or not, so the node API can say which.
 *
 * <pre>
 * {command: info}                       enabled, state, error, name, nodeId, local, members
 * {command: announce, api: URI}         records the node API's address in the registry
 * {command: collective, ...}            runs one rank of a collective check (see Diagnostics)
 * {command: tcp, ...}                   runs one rank of a plain TCP check (see Diagnostics)
 * {command: job-submit, spec, id, runs, base}   submits a cluster job (see ClusterJobs)
 * {command: job-list}                   every cluster job, brief
 * {command: job-status, id}             one cluster job with its points and generations; {} when none,
 *                                       null when this node is not in a cluster
 * {command: job-stop, id, wait_ms}      stops it after a step every rank reaches; {} or null as above
 * </pre>
 *
 * Errors: {@link IllegalArgumentException} for a bad request, {@link IllegalStateException}
 * when this node is not in a cluster; their messages are for the user.
 */
final class ClusterService implements Function<Map<String, Object>, Map<String, Object>> {

    enum State { DISABLED, STARTING, JOINED, FAILED, STOPPED }

    private final ClusterSettings settings;
    private volatile State state;
    private volatile String error;
    private volatile ClusterRuntime runtime;
    private volatile String api;
    private volatile ClusterJobs jobs;

    ClusterService(ClusterSettings settings) {
        this.settings = settings;
        this.state = settings.enabled() ? State.STARTING : State.DISABLED;
    }

    void joined(ClusterRuntime r, ClusterJobs j) {
        runtime = r;
        jobs = j;
        if (api != null) {
            r.announceApi(api);
        }
        state = State.JOINED;
    }

    void failed(String message) {
        error = message;
        state = State.FAILED;
    }

    void stopped() {
        runtime = null;
        jobs = null;
        state = settings.enabled() ? State.STOPPED : State.DISABLED;
    }

    @Override
    public Map<String, Object> apply(Map<String, Object> request) {
        String command = String.valueOf(request.get("command"));
        return switch (command) {
            case "info" -> info();
            case "announce" -> {
                api = Requests.string(request, "api");
                ClusterRuntime r = runtime;
                if (r != null) {
                    r.announceApi(api);
                }
                yield Map.of("announced", api);
            }
            case "collective" -> new Diagnostics(joinedRuntime()).collective(request);
            case "tcp" -> new Diagnostics(joinedRuntime()).tcp(request);
            case "job-submit" -> {
                try {
                    yield joinedJobs().submit(request);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e.getMessage(), e);
                }
            }
            case "job-list" -> {
                ClusterJobs j = jobs;
                yield Map.of("jobs", j == null ? List.of() : j.list());
            }
            case "job-status" -> {
                ClusterJobs j = jobs;
                if (j == null) {
                    yield null; // not in a cluster: the caller's own "no job" stands
                }
                Map<String, Object> st = j.status(Requests.string(request, "id"),
                        Requests.integer(request, "since", 0, 0, Integer.MAX_VALUE));
                yield st == null ? Map.of() : st;
            }
            case "job-stop" -> {
                ClusterJobs j = jobs;
                try {
                    if (j == null) {
                        yield null;
                    }
                    Map<String, Object> st = j.stop(Requests.string(request, "id"),
                            Requests.string(request, "reason", "stopped on request"),
                            request.get("wait_ms") instanceof Number n ? n.longValue() : 0);
                    yield st == null ? Map.of() : st;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while stopping a cluster job", e);
                }
            }
            default -> throw new IllegalArgumentException("unknown cluster command '" + command + "' (info, announce, "
                    + "collective, tcp, job-submit, job-list, job-status, job-stop)");
        };
    }

    private ClusterRuntime joinedRuntime() {
        ClusterRuntime r = runtime;
        if (r == null) {
            throw new IllegalStateException("this node is not in a cluster (" + describeState() + ")");
        }
        return r;
    }

    private ClusterJobs joinedJobs() {
        joinedRuntime();
        ClusterJobs j = jobs;
        if (j == null) {
            throw new IllegalStateException("this node is still starting its cluster jobs");
        }
        return j;
    }

    private String describeState() {
        return switch (state) {
            case DISABLED -> "clustering is off: start it with 'cornerstone node --cluster' or '--join HOST[:PORT]'";
            case STARTING -> "still joining cluster '" + settings.name() + "'";
            case FAILED -> "joining cluster '" + settings.name() + "' failed: " + error;
            case STOPPED -> "it left cluster '" + settings.name() + "'";
            case JOINED -> "joined";
        };
    }

    private Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("enabled", settings.enabled());
        m.put("state", state.name().toLowerCase(java.util.Locale.ROOT));
        m.put("name", settings.name());
        m.put("members", List.of());
        if (state == State.FAILED) {
            m.put("error", error);
        }
        if (settings.enabled()) {
            m.put("join", settings.members());
            m.put("interfaces", settings.interfaces());
        }
        ClusterRuntime r = runtime;
        if (r != null) {
            m.put("nodeId", r.nodeId());
            m.put("local", r.local().toMap());
            List<Object> members = new ArrayList<>();
            for (NodeInfo n : r.members()) {
                members.add(n.toMap());
            }
            m.put("members", members);
        }
        return m;
    }
}
