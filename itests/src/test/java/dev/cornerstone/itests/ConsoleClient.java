package dev.cornerstone.itests;

import java.io.IOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A browser-like client of a node's web console: it keeps the session cookie and sends the
 * session's CSRF token with changes when told to, so tests can also leave either out.
 */
final class ConsoleClient {

    final URI base;
    final CookieManager cookies = new CookieManager();
    final HttpClient http;
    String csrf;

    ConsoleClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().cookieHandler(cookies).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** GET /api/session: remembers the CSRF token. */
    JsonNode session() throws Exception {
        JsonNode s = json(send("GET", "/api/session", null, null, false, null));
        csrf = s.path("csrf").asText();
        return s;
    }

    /** Signs in with the node's token; returns the answer. */
    HttpResponse<String> login(String token) throws Exception {
        session();
        HttpResponse<String> r = send("POST", "/api/login", NodeProcess.JSON.writeValueAsString(Map.of("token", token)),
                "application/json", true, null);
        if (r.statusCode() == 200) {
            csrf = NodeProcess.JSON.readTree(r.body()).path("csrf").asText();
        }
        return r;
    }

    String sessionCookie() {
        for (HttpCookie c : cookies.getCookieStore().getCookies()) {
            if (c.getName().equals("cornerstone.console")) {
                return c.getValue();
            }
        }
        return null;
    }

    /** A request with a JSON body (or none); {@code withCsrf}: send the session's CSRF token. */
    HttpResponse<String> send(String method, String path, String json, String contentType, boolean withCsrf,
                              String bearer) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (withCsrf && csrf != null) {
            b.header("X-CSRF-Token", csrf);
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> upload(String path, Path jar, boolean withCsrf) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/java-archive")
                .POST(HttpRequest.BodyPublishers.ofFile(jar));
        if (withCsrf && csrf != null) {
            b.header("X-CSRF-Token", csrf);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> upload(String path, byte[] body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/java-archive")
                .header("X-CSRF-Token", csrf)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, null, false, null);
    }

    HttpResponse<String> post(String path, Object body) throws IOException, InterruptedException {
        return send("POST", path, body == null ? null : NodeProcess.JSON.writeValueAsString(body), "application/json",
                true, null);
    }

    HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send("DELETE", path, null, null, true, null);
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return NodeProcess.JSON.readTree(r.body());
    }

    /** GET that must answer 200, as JSON. */
    JsonNode ok(String path) throws Exception {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return json(r);
    }
}
