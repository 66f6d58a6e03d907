package dev.cornerstone.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

/**
 * The console's side of jobs: submission through the node service (so a job started here
 * gets its run folder where {@code cornerstone jobs submit} would put it), everything else
 * through the job service, plus what the console reads from a job's run folder (checkpoints)
 * and keeps there (generated samples, {@code console-samples.jsonl}). Every method blocks.
 */
final class Jobs {

    static final String SAMPLES_FILE = "console-samples.jsonl";

    private final NodeServices services;

    Jobs(NodeServices services) {
        this.services = services;
    }

    /**
     * The node's own jobs, then (on a node in a cluster) the cluster's jobs, each with
     * {@code "cluster": true} and its {@code world} and {@code generation}: what the node API's
     * {@code GET /api/jobs} answers. A cluster that cannot answer leaves its jobs out and says
     * why in {@code cluster_error}.
     */
    Map<String, Object> list() {
        Map<String, Object> own = services.call("jobs", Map.of("command", "list"));
        if (!services.present("cluster")) {
            return own;
        }
        Map<String, Object> m = new LinkedHashMap<>(own);
        try {
            Map<String, Object> c = services.call("cluster", Map.of("command", "job-list"));
            if (c != null && c.get("jobs") instanceof List<?> cl && !cl.isEmpty()) {
                List<Object> all = new ArrayList<>((List<?>) own.getOrDefault("jobs", List.of()));
                all.addAll(cl);
                m.put("jobs", all);
            }
        } catch (ApiError e) {
            m.put("cluster_error", e.getMessage());
        }
        return m;
    }

    /** The cluster's jobs alone (empty off a cluster); never fails. */
    List<Map<String, Object>> clusterJobs() {
        if (!services.present("cluster")) {
            return List.of();
        }
        try {
            Map<String, Object> c = services.call("cluster", Map.of("command", "job-list"));
            List<Map<String, Object>> out = new ArrayList<>();
            if (c != null && c.get("jobs") instanceof List<?> l) {
                for (Object o : l) {
                    if (o instanceof Map<?, ?> j) {
                        @SuppressWarnings("unchecked") Map<String, Object> pm = (Map<String, Object>) Http.plain(j);
                        out.add(pm);
                    }
                }
            }
            return out;
        } catch (ApiError e) {
            return List.of();
        }
    }

    /** A job of this node, else the cluster's job of that id (with points and generations); 404 when neither. */
    Map<String, Object> status(String id) {
        return status(id, 0);
    }

    /** As {@link #status(String)}, with only the points after step {@code since} (0: all). */
    Map<String, Object> status(String id, int since) {
        try {
            return services.call("jobs", Map.of("command", "status", "id", id, "since", since));
        } catch (ApiError e) {
            Map<String, Object> c = e.status == 404 ? clusterCall("job-status", Map.of("id", id, "since", since))
                    : null;
            if (c == null) {
                throw e;
            }
            return c;
        }
    }

    /** The cluster service's answer about job {@code id}; null when there is no cluster or no such job there. */
    private Map<String, Object> clusterCall(String command, Map<String, Object> args) {
        if (!services.present("cluster")) {
            return null;
        }
        Map<String, Object> request = new LinkedHashMap<>(args);
        request.put("command", command);
        Map<String, Object> c = services.call("cluster", request);
        return c == null || c.isEmpty() ? null : c;
    }

    /** {@code body}: {@code {spec: {...}, id?: "..."}}; relative data paths resolve against the distribution. */
    Map<String, Object> submit(JsonObject body) {
        Object spec = body.getValue("spec");
        if (!(spec instanceof JsonObject)) {
            throw new ApiError(400, "spec: must be an object with sections model, optimizer, data, train, backend",
                    null);
        }
        Object id = body.getValue("id");
        if (id != null && !(id instanceof String)) {
            throw new ApiError(400, "id: must be a string");
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "submit");
        request.put("spec", Http.plain(spec));
        if (id != null && !((String) id).isBlank()) {
            request.put("id", ((String) id).trim());
        }
        return services.call("node", request);
    }

    /** Stops a job of this node, else the cluster's job of that id (every rank after the same step). */
    Map<String, Object> stop(String id, long waitMillis) {
        try {
            return services.call("jobs", Map.of("command", "stop", "id", id, "wait_ms", waitMillis));
        } catch (ApiError e) {
            Map<String, Object> c = e.status == 404 ? clusterCall("job-stop", Map.of("id", id, "wait_ms", waitMillis,
                    "reason", "stopped from the console")) : null;
            if (c == null) {
                throw e;
            }
            return c;
        }
    }

    Map<String, Object> move(String id, JsonObject body) {
        if (!(body.getValue("backend") instanceof String b) || b.isBlank()) {
            throw new ApiError(400, "send {\"backend\": NAME}");
        }
        return services.call("jobs", Map.of("command", "move", "id", id, "backend", b));
    }

    Map<String, Object> backends() {
        return services.call("jobs", Map.of("command", "backends"));
    }

    Map<String, Object> defaultSpec() {
        return services.call("node", Map.of("command", "default_spec"));
    }

    private Path runDir(String id) {
        Object run = status(id).get("run");
        if (!(run instanceof String r)) {
            throw new ApiError(409, "job '" + id + "' has no run folder");
        }
        return Path.of(r);
    }

    /** The job's checkpoints, oldest first: step, folder, files and bytes. */
    Map<String, Object> checkpoints(String id) throws IOException {
        Path dir = runDir(id).resolve("checkpoints");
        List<Map<String, Object>> list = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            List<Path> steps;
            try (Stream<Path> s = Files.list(dir)) {
                steps = s.filter(p -> p.getFileName().toString().matches("step-\\d{6,}") && Files.isDirectory(p))
                        .sorted().toList();
            }
            for (Path p : steps) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("step", Integer.parseInt(p.getFileName().toString().substring(5)));
                c.put("path", p.toString());
                long bytes = 0;
                List<String> files = new ArrayList<>();
                try (Stream<Path> s = Files.list(p)) {
                    for (Path f : s.sorted().toList()) {
                        files.add(f.getFileName().toString());
                        bytes += Files.size(f);
                    }
                }
                c.put("files", files);
                c.put("bytes", bytes);
                c.put("saved_at", Files.getLastModifiedTime(p).toInstant().toString());
                list.add(c);
            }
        }
        return Map.of("checkpoints", list);
    }

    /** Generates text from the job's newest checkpoint and keeps it in the run folder. */
    Map<String, Object> generate(String id, JsonObject body) throws IOException {
        Path run = runDir(id);
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "generate");
        request.put("run", run.toString());
        request.put("prompt", body.getValue("prompt") instanceof String p ? p : "");
        request.put("tokens", number(body, "tokens", 200, 1, 5000));
        request.put("temperature", decimal(body, "temperature", 0.8, 0, 10));
        request.put("top_k", number(body, "top_k", 40, 0, 100_000));
        request.put("seed", number(body, "seed", 1337, 0, Long.MAX_VALUE));
        // the newest checkpoint now; generation loads this one or, if one lands meanwhile, a newer one
        Integer checkpoint = latestCheckpoint(run);
        Map<String, Object> answer = services.call("jobs", request);
        Map<String, Object> sample = new LinkedHashMap<>();
        sample.put("at", Instant.now().toString());
        sample.put("checkpoint", checkpoint);
        sample.putAll(request);
        sample.remove("command");
        sample.remove("run");
        sample.put("text", answer.get("text"));
        Files.writeString(run.resolve(SAMPLES_FILE), Json.encode(sample) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return sample;
    }

    Map<String, Object> samples(String id) throws IOException {
        Path f = runDir(id).resolve(SAMPLES_FILE);
        List<Object> out = new ArrayList<>();
        if (Files.isRegularFile(f)) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(new JsonObject(line).getMap());
                }
            }
        }
        return Map.of("samples", out);
    }

    private static Integer latestCheckpoint(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d{6,}")).sorted()
                    .reduce((a, b) -> b).map(n -> Integer.parseInt(n.substring(5))).orElse(null);
        }
    }

    private static long number(JsonObject body, String key, long def, long min, long max) {
        Object v = body.getValue(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.longValue() >= min
                && n.longValue() <= max) {
            return n.longValue();
        }
        throw new ApiError(400, key + ": " + v + " is not allowed; expected a whole number in [" + min + ", " + max
                + "]", key);
    }

    private static double decimal(JsonObject body, String key, double def, double min, double max) {
        Object v = body.getValue(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n && n.doubleValue() >= min && n.doubleValue() <= max) {
            return n.doubleValue();
        }
        throw new ApiError(400, key + ": " + v + " is not allowed; expected a number in [" + min + ", " + max + "]",
                key);
    }
}
