package dev.cornerstone.launcher;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The client side of {@link NodeApi}, used by every command aimed at a running node. */
final class NodeClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    NodeClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    URI base() {
        return base;
    }

    /**
     * The node to talk to: {@code --node} when given, else the node running from this
     * distribution's data folder (its {@code node.json}, if that process is alive), else null.
     */
    static NodeClient locate(Home home, String nodeOption, String tokenOption) throws IOException {
        String token = tokenOption != null ? tokenOption : System.getenv("CORNERSTONE_TOKEN");
        if (nodeOption != null) {
            String url = nodeOption.contains("://") ? nodeOption : "http://" + nodeOption;
            URI uri = URI.create(url.endsWith("/api") ? url : url.replaceAll("/+$", "") + "/api");
            if (token == null && Files.isRegularFile(home.tokenFile())) {
                token = ApiToken.read(home.tokenFile());
            }
            if (token == null) {
                throw new CliException("no API token for " + uri + ": pass --token or set CORNERSTONE_TOKEN");
            }
            return new NodeClient(uri, token);
        }
        Path nodeFile = home.nodeFile();
        if (!Files.isRegularFile(nodeFile)) {
            return null;
        }
        JsonNode n;
        try {
            n = JSON.readTree(nodeFile.toFile());
        } catch (IOException e) {
            return null; // being written or left half-written by a killed node: treat as not running
        }
        long pid = n.path("pid").asLong(-1);
        if (pid <= 0 || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
            return null;
        }
        if (token == null) {
            token = ApiToken.read(home.tokenFile());
        }
        return new NodeClient(URI.create(n.path("api").asText()), token);
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(resolve(path)).GET());
    }

    JsonNode delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(resolve(path)).DELETE());
    }

    JsonNode post(String path, Object jsonBody) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(jsonBody))));
    }

    JsonNode upload(Path jar, String fileName) throws IOException, InterruptedException {
        String q = "/bundles?file=" + URLEncoder.encode(fileName, StandardCharsets.UTF_8);
        return send(HttpRequest.newBuilder(resolve(q)).header("Content-Type", "application/java-archive")
                .POST(HttpRequest.BodyPublishers.ofFile(jar)));
    }

    private URI resolve(String path) {
        return URI.create(base.toString() + path);
    }

    private JsonNode send(HttpRequest.Builder rb) throws IOException, InterruptedException {
        HttpRequest req = rb.header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).build();
        HttpResponse<String> res;
        try {
            res = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new CliException("cannot reach the node at " + base + " (" + e.getMessage() + ")");
        }
        JsonNode body;
        try {
            body = JSON.readTree(res.body());
        } catch (IOException e) {
            throw new CliException("the node at " + base + " answered HTTP " + res.statusCode() + " with a body that is "
                    + "not JSON");
        }
        if (res.statusCode() >= 400) {
            throw new CliException("node " + base + ": " + body.path("error").asText("HTTP " + res.statusCode()));
        }
        return body;
    }
}
