package dev.cornerstone.console;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster side of the bundles view: the cluster's bundle repository
 * ({@code dev.cornerstone.repository}, a JDK-typed service with
 * {@code cornerstone.service=repository}, registered only on a node that has joined a cluster)
 * and every bundle on every node, from the node registry. Every method blocks.
 */
final class Repository {

    private final NodeServices services;

    Repository(NodeServices services) {
        this.services = services;
    }

    boolean present() {
        return services.present("repository");
    }

    /** Why there is no repository here, for the page and for a refused deploy. */
    String absentReason() {
        if (!services.present("cluster")) {
            return "the cluster bundle (dev.cornerstone.cluster) is not installed on this node";
        }
        Map<String, Object> info = services.call("cluster", Map.of("command", "info"));
        String state = String.valueOf(info.get("state"));
        return switch (state) {
            case "disabled" -> "this node is not in a cluster (start it with 'cornerstone node --cluster' or "
                    + "'--join HOST')";
            case "starting" -> "this node is still joining cluster '" + info.get("name") + "'";
            case "failed" -> "joining cluster '" + info.get("name") + "' failed: " + info.get("error");
            case "joined" -> "the bundle repository (dev.cornerstone.repository) is not running on this node";
            default -> "this node is not in a cluster (state " + state + ")";
        };
    }

    /** {@code GET /api/repository}. */
    Map<String, Object> list() {
        if (!present()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("available", false);
            m.put("message", "No cluster-wide deploys: " + absentReason() + ".");
            m.put("bundles", List.of());
            return m;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("available", true);
        m.putAll(services.call("repository", Map.of("command", "list")));
        return m;
    }

    /** {@code POST /api/repository}: the jar was received into {@code jar} and is a bundle. */
    Map<String, Object> put(Path jar, String fileName, String uploader, long waitMillis) {
        requirePresent();
        // The repository checks the jar (a zip with a Bundle-SymbolicName) before it stores anything.
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "put");
        request.put("path", jar.toString());
        if (fileName != null && !fileName.isBlank()) {
            request.put("name", fileName);
        }
        request.put("uploader", uploader);
        request.put("wait_ms", waitMillis);
        return services.call("repository", request);
    }

    /** {@code DELETE /api/repository/{name}}. */
    Map<String, Object> remove(String name, long waitMillis) {
        requirePresent();
        return services.call("repository", Map.of("command", "remove", "name", name, "wait_ms", waitMillis));
    }

    void requirePresent() {
        if (!present()) {
            throw new ApiError(409, "cannot deploy to the whole cluster: " + absentReason()
                    + "; nothing was stored (deploy to this node instead)");
        }
    }

    /**
     * {@code GET /api/cluster/bundles}: every bundle on every node, from the node registry:
     * {@code {nodes: [{id, host, self}], bundles: [{symbolicName, nodes: {ID: {version, state}}}]}}.
     * Without a cluster, this node only (from its own bundle list).
     */
    Map<String, Object> clusterBundles(List<Map<String, Object>> localBundles) {
        Map<String, Object> info = services.present("cluster") ? services.call("cluster", Map.of("command", "info"))
                : Map.of();
        return matrix(info, localBundles);
    }

    /** The table of {@link #clusterBundles} from the cluster service's {@code info} answer. */
    static Map<String, Object> matrix(Map<String, Object> info, List<Map<String, Object>> localBundles) {
        List<Map<String, Object>> nodes = new ArrayList<>();
        TreeMap<String, Map<String, Object>> byName = new TreeMap<>();
        Object selfId = info.get("nodeId");
        List<?> members = info.get("members") instanceof List<?> l ? l : List.of();
        if (members.isEmpty()) {
            nodes.add(node("self", null, true));
            for (Map<String, Object> b : localBundles) {
                if (b.get("symbolicName") != null) {
                    put(byName, String.valueOf(b.get("symbolicName")), "self", b.get("version"), b.get("state"));
                }
            }
        }
        for (Object o : members) {
            if (!(o instanceof Map<?, ?> m)) {
                continue;
            }
            String id = String.valueOf(m.get("id"));
            nodes.add(node(id, m.get("hostName"), id.equals(selfId)));
            if (m.get("bundles") instanceof List<?> bl) {
                for (Object x : bl) {
                    if (x instanceof Map<?, ?> b && b.get("symbolicName") != null) {
                        put(byName, String.valueOf(b.get("symbolicName")), id, b.get("version"), b.get("state"));
                    }
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodes", nodes);
        m.put("bundles", new ArrayList<>(byName.values()));
        return m;
    }

    private static Map<String, Object> node(String id, Object host, boolean self) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("id", id);
        n.put("host", host);
        n.put("self", self);
        return n;
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Map<String, Object>> byName, String bsn, String node, Object version,
                            Object state) {
        Map<String, Object> row = byName.computeIfAbsent(bsn, k -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("symbolicName", k);
            r.put("nodes", new LinkedHashMap<String, Object>());
            return r;
        });
        Map<String, Object> cell = new LinkedHashMap<>();
        cell.put("version", version);
        cell.put("state", state);
        ((Map<String, Object>) row.get("nodes")).put(node, cell);
    }
}
