package dev.cornerstone.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A node started the way a user starts one, {@code bin/cornerstone node}, as a separate
 * JVM; talked to through its API with the token from the distribution's conf/.
 */
final class NodeProcess implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Distribution dist;
    final Path dataDir;
    final Process process;
    final Path consoleLog;
    final long startNanos;
    URI api;
    /** The web console's address, such as http://127.0.0.1:PORT/; null when no console runs. */
    URI console;
    String token;
    /**
     * The command prefix that runs a program beside the node (such as {@code ip netns exec NS}
     * for a node in a network namespace of its own); empty when the node is reachable from here.
     * With a prefix, {@link #get} and {@link #post} go through {@code curl} run under it.
     */
    final List<String> prefix;

    private NodeProcess(Distribution dist, Path dataDir, Process process, Path consoleLog, long startNanos,
                        List<String> prefix) {
        this.dist = dist;
        this.dataDir = dataDir;
        this.process = process;
        this.consoleLog = consoleLog;
        this.startNanos = startNanos;
        this.prefix = List.copyOf(prefix);
    }

    /** Starts a node on any free port with its own data folder; returns when its API answers. */
    static NodeProcess start(Distribution dist, Path dataDir) throws Exception {
        return start(dist, dataDir, List.of(), java.util.Map.of());
    }

    /** As {@link #start(Distribution, Path)}, with more {@code node} options and environment (JAVA_OPTS). */
    static NodeProcess start(Distribution dist, Path dataDir, List<String> nodeArgs, java.util.Map<String, String> env)
            throws Exception {
        return start(dist, dataDir, nodeArgs, env, List.of());
    }

    /**
     * As {@link #start(Distribution, Path, List, java.util.Map)}, the command run under
     * {@code prefix} (such as {@code ip netns exec NS}, which execs it: the process is the node's JVM).
     */
    static NodeProcess start(Distribution dist, Path dataDir, List<String> nodeArgs, java.util.Map<String, String> env,
                             List<String> prefix) throws Exception {
        Files.createDirectories(dataDir);
        Path console = dataDir.resolve("console.txt");
        List<String> args = new ArrayList<>(List.of("node", "--port", "0", "--data", dataDir.toString()));
        args.addAll(nodeArgs);
        ProcessBuilder pb = dist.command(args).directory(dataDir.toFile()).redirectErrorStream(true)
                .redirectOutput(console.toFile());
        if (!prefix.isEmpty()) {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(pb.command());
            pb.command(cmd);
        }
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        NodeProcess node = new NodeProcess(dist, dataDir, pb.start(), console, t0, prefix);
        node.awaitReady(Duration.ofSeconds(90));
        return node;
    }

    private void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path nodeFile = dataDir.resolve("node.json");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("node exited with " + process.exitValue() + ":\n" + console());
            }
            if (Files.isRegularFile(nodeFile)) {
                try {
                    JsonNode n = JSON.readTree(nodeFile.toFile());
                    api = URI.create(n.path("api").asText());
                    console = n.hasNonNull("console") ? URI.create(n.path("console").asText()) : null;
                    token = Files.readString(dist.root.resolve("conf/api-token")).trim();
                    get("/node");
                    return;
                } catch (IOException e) {
                    // file being renamed into place or API not bound yet
                }
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("node not ready in " + timeout + ":\n" + console());
    }

    /** Milliseconds from process start until the API answered. */
    long readyMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    String console() throws IOException {
        return Files.exists(consoleLog) ? Files.readString(consoleLog, StandardCharsets.UTF_8) : "";
    }

    String log() throws IOException {
        Path f = dataDir.resolve("log/cornerstone.0.log");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    HttpResponse<String> request(String method, String path, HttpRequest.BodyPublisher body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(60))
                .method(method, body);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        if (!prefix.isEmpty()) {
            String[] r = curl("GET", path, null, Duration.ofSeconds(60));
            if (!r[0].equals("200")) {
                throw new IOException("GET " + path + " -> " + r[0] + " " + r[1]);
            }
            return JSON.readTree(r[1]);
        }
        HttpResponse<String> r = request("GET", path, HttpRequest.BodyPublishers.noBody(), token);
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** POSTs a JSON body; the answer of any status as JSON, with the status under "httpStatus". */
    JsonNode post(String path, Object body, Duration timeout) throws IOException, InterruptedException {
        if (!prefix.isEmpty()) {
            String[] r = curl("POST", path, JSON.writeValueAsBytes(body), timeout);
            com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode)
                    JSON.readTree(r[1]);
            n.put("httpStatus", Integer.parseInt(r[0]));
            return n;
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode)
                JSON.readTree(r.body());
        n.put("httpStatus", r.statusCode());
        return n;
    }

    /**
     * One request through {@code curl} run under {@link #prefix}: {status, body}. A status of
     * "000" (curl could not connect) is an IOException, as from the HTTP client.
     */
    private String[] curl(String method, String path, byte[] body, Duration timeout)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("curl", "-sS", "-m", String.valueOf(Math.max(1, timeout.toSeconds())), "-X", method,
                "-H", "Authorization: Bearer " + token, "-o", "-", "-w", "\n%{http_code}"));
        if (body != null) {
            cmd.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", "@-"));
        }
        cmd.add(api + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            if (body != null) {
                in.write(body);
            }
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toSeconds() + 10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(method + " " + path + ": curl did not finish");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        int nl = text.lastIndexOf('\n');
        String status = nl < 0 ? text.trim() : text.substring(nl + 1).trim();
        if (p.exitValue() != 0 || status.equals("000")) {
            throw new IOException(method + " " + path + ": curl exited " + p.exitValue() + ": " + text);
        }
        return new String[] {status, nl < 0 ? "" : text.substring(0, nl)};
    }

    /** SIGKILL, as a crash: no shutdown hook runs. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    JsonNode bundles() throws IOException, InterruptedException {
        return get("/bundles").path("bundles");
    }

    JsonNode bundle(String symbolicNameOrFile) throws IOException, InterruptedException {
        for (JsonNode b : bundles()) {
            if (symbolicNameOrFile.equals(b.path("symbolicName").asText()) || symbolicNameOrFile.equals(
                    b.path("file").asText())) {
                return b;
            }
        }
        return null;
    }

    List<JsonNode> services(Predicate<JsonNode> filter) throws IOException, InterruptedException {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode s : get("/services").path("services")) {
            if (filter.test(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** Polls every 25 ms until {@code condition} holds; returns the milliseconds it took. */
    long await(String what, Duration timeout, Check condition) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.holds()) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            }
            Thread.sleep(25);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "\n--- node log:\n" + log());
    }

    /**
     * Waits until this node reports its cluster {@code joined} ({@code GET /cluster}); fails at
     * once, with the node's answer, when it reports {@code failed}. Returns that answer.
     */
    JsonNode awaitJoined() throws Exception {
        return awaitJoined(Duration.ofSeconds(120));
    }

    /** As {@link #awaitJoined()}, waiting up to {@code timeout}. */
    JsonNode awaitJoined(Duration timeout) throws Exception {
        JsonNode[] last = new JsonNode[1];
        await("cluster joined", timeout, () -> {
            last[0] = get("/cluster");
            if (last[0].path("state").asText().equals("failed")) {
                throw new AssertionError("join failed: " + last[0]);
            }
            return last[0].path("state").asText().equals("joined");
        });
        return last[0];
    }

    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;
    }

    /** SIGTERM, then waits; returns the milliseconds until the process was gone. */
    long stop(Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy(); // SIGTERM
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("node did not stop within " + timeout + " of SIGTERM");
        }
        for (ProcessHandle c : children) {
            c.onExit().orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> c).join();
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
