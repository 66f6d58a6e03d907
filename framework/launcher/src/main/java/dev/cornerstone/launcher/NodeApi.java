package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The node's JSON API under {@code /api}, on 127.0.0.1 by default. It lives in the
 * launcher, outside the OSGi container, so it answers even when bundles are broken, and
 * it is how every command aimed at a running node reaches it (it never touches the node's
 * files from outside). Every request needs {@code Authorization: Bearer <token>}.
 *
 * <pre>
 * GET    /api/node                 node id, version, uptime, bundle counts
 * GET    /api/bundles              every bundle (and every file in deploy/ that is not one)
 * GET    /api/services             every registered service with its properties
 * POST   /api/bundles?file=NAME    body: a bundle jar; put into deploy/, waits for its state
 * DELETE /api/bundles/NAME         removes NAME (file or symbolic name) from deploy/
 * GET    /api/jobs                 the node's jobs, then the cluster's jobs (cluster: true; world, generation)
 * POST   /api/jobs                 body {"spec": {...}, "id": optional}: starts a job; 201 {id, run}; a spec
 *                                  with a cluster section is a cluster job (any node of the cluster takes it)
 * GET    /api/jobs/ID?since=STEP   one job (of this node, else of the cluster), with every logged point
 *                                  (with since: only those after that step)
 * POST   /api/jobs/ID/stop?wait=S  stops it after the step in progress (every rank's), with a checkpoint
 * POST   /api/jobs/ID/backend      body {"backend": NAME}: moves it to that backend between two steps
 * GET    /api/cluster              cluster state, this node and the members (the cluster bundle's view)
 * POST   /api/cluster/collective   body: JSON; runs one rank of a collective check (see the cluster bundle)
 * POST   /api/cluster/tcp          body: JSON; runs one rank of a plain TCP check between the same nodes
 * </pre>
 */
public final class NodeApi implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.api");
    /** Ports tried after the configured one when it is taken. */
    static final int PORT_ATTEMPTS = 20;

    private final Node node;
    private final String token;
    private final long maxUploadBytes;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService executor;

    private NodeApi(Node node, String token, long maxUploadBytes, HttpServer server, ExecutorService executor) {
        this.node = node;
        this.token = token;
        this.maxUploadBytes = maxUploadBytes;
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code host:port}, moving on to the next port while it is taken (port 0: any free port). */
    static NodeApi start(Node node, String host, int port, String token, long maxUploadBytes) throws IOException {
        HttpServer server = null;
        IOException last = null;
        int attempts = port == 0 ? 1 : PORT_ATTEMPTS;
        for (int i = 0; i < attempts && server == null; i++) {
            try {
                server = HttpServer.create(new InetSocketAddress(host, port == 0 ? 0 : port + i), 64);
            } catch (BindException e) {
                last = e;
                LOG.info("Port " + (port + i) + " on " + host + " is taken; trying the next one");
            }
        }
        if (server == null) {
            throw new IOException("No free port for the node API on " + host + " in " + port + ".."
                    + (port + attempts - 1), last);
        }
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "cornerstone-api");
            t.setDaemon(true);
            return t;
        });
        NodeApi api = new NodeApi(node, token, maxUploadBytes, server, executor);
        server.createContext("/api", api::handle);
        server.setExecutor(executor);
        server.start();
        return api;
    }

    public URI uri() {
        InetSocketAddress a = server.getAddress();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort() + "/api");
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim() : null;
            if (!ApiToken.matches(token, given)) {
                drain(ex);
                ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"cornerstone\"");
                send(ex, 401, error("authentication required: send 'Authorization: Bearer <token>' with the token in "
                        + "the node's conf/api-token"));
                return;
            }
            route(ex);
        } catch (ApiException e) {
            drain(ex);
            send(ex, e.status, error(e.getMessage()));
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "API " + ex.getRequestMethod() + " " + ex.getRequestURI() + " failed", e);
            drain(ex);
            send(ex, 500, error("internal error: " + e.getClass().getSimpleName() + " (details in the node's log)"));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws Exception {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        Map<String, String> query = query(ex.getRequestURI());
        if (path.equals("/api/node") && method.equals("GET")) {
            send(ex, 200, node.info());
        } else if (path.equals("/api/bundles") && method.equals("GET")) {
            send(ex, 200, Map.of("bundles", node.bundleViews()));
        } else if (path.equals("/api/services") && method.equals("GET")) {
            send(ex, 200, Map.of("services", node.services()));
        } else if (path.equals("/api/bundles") && method.equals("POST")) {
            upload(ex, query);
        } else if (path.startsWith("/api/bundles/") && method.equals("DELETE")) {
            String name = URLDecoder.decode(path.substring("/api/bundles/".length()), StandardCharsets.UTF_8);
            send(ex, 200, node.undeploy(name, waitMillis(query)));
        } else if (path.equals("/api/jobs") || path.startsWith("/api/jobs/")) {
            jobs(ex, method, path, query);
        } else if (path.equals("/api/cluster") && method.equals("GET")) {
            send(ex, 200, cluster(Map.of("command", "info")));
        } else if ((path.equals("/api/cluster/collective") || path.equals("/api/cluster/tcp"))
                && method.equals("POST")) {
            Map<String, Object> request = new LinkedHashMap<>(jsonBody(ex));
            request.put("command", path.substring("/api/cluster/".length()));
            send(ex, 200, cluster(request));
        } else if (path.equals("/api/bundles") || path.equals("/api/node") || path.equals("/api/services")
                || path.startsWith("/api/bundles/") || path.startsWith("/api/cluster")) {
            throw new ApiException(405, "method " + method + " is not allowed on " + path);
        } else {
            throw new ApiException(404, "no such route: " + method + " " + path);
        }
    }

    /** Calls the cluster bundle; its errors become 400 (bad request) and 409 (not in a cluster). */
    private Map<String, Object> cluster(Map<String, Object> request) throws Exception {
        Map<String, Object> answer;
        try {
            answer = node.cluster(request);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        } catch (IllegalStateException e) {
            throw new ApiException(409, e.getMessage());
        }
        if (answer == null) {
            throw new ApiException(503, "no cluster bundle (dev.cornerstone.cluster) is running on this node");
        }
        return answer;
    }

    /** A JSON object request body, at most 1 MiB. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> jsonBody(HttpExchange ex) throws IOException {
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes((1 << 20) + 1);
        }
        if (body.length > 1 << 20) {
            throw new ApiException(413, "a JSON request body may be at most 1 MiB");
        }
        if (body.length == 0) {
            return Map.of();
        }
        try {
            Object v = json.readValue(body, Object.class);
            if (v instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException(400, "the request body is not JSON: " + e.getOriginalMessage());
        }
        throw new ApiException(400, "the request body must be a JSON object");
    }

    private void upload(HttpExchange ex, Map<String, String> query) throws IOException, InterruptedException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null && Long.parseLong(declared) > maxUploadBytes) {
            throw new ApiException(413, "upload of " + declared + " bytes exceeds the limit of " + maxUploadBytes
                    + " bytes (api.upload.max.bytes)");
        }
        Path tmp = Files.createTempFile(node.home().tmpDir(), "upload-", ".jar");
        try {
            long n = 0;
            try (InputStream in = ex.getRequestBody(); OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[64 * 1024];
                int r;
                while ((r = in.read(buf)) > 0) {
                    n += r;
                    if (n > maxUploadBytes) {
                        throw new ApiException(413, "upload exceeds the limit of " + maxUploadBytes
                                + " bytes (api.upload.max.bytes)");
                    }
                    out.write(buf, 0, r);
                }
            }
            if (n == 0) {
                throw new ApiException(400, "empty upload: send the bundle jar as the request body");
            }
            try {
                send(ex, 201, node.deploy(tmp, query.get("file"), waitMillis(query)));
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, e.getMessage());
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void jobs(HttpExchange ex, String method, String path, Map<String, String> query) throws Exception {
        String rest = path.length() > "/api/jobs".length() ? path.substring("/api/jobs/".length()) : "";
        String[] parts = rest.isEmpty() ? new String[0] : rest.split("/");
        for (int i = 0; i < parts.length; i++) {
            parts[i] = URLDecoder.decode(parts[i], StandardCharsets.UTF_8);
        }
        try {
            if (parts.length == 0 && method.equals("GET")) {
                List<Object> all = new ArrayList<>((List<?>) node.jobs(Map.of("command", "list")).get("jobs"));
                Map<String, Object> cluster = clusterJobs(Map.of("command", "job-list"));
                if (cluster != null && cluster.get("jobs") instanceof List<?> cj) {
                    all.addAll(cj);
                }
                send(ex, 200, Map.of("jobs", all));
            } else if (parts.length == 0 && method.equals("POST")) {
                Map<String, Object> body = jsonBody(ex);
                if (body.get("spec") instanceof Map<?, ?> spec && spec.containsKey("cluster")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> s = (Map<String, Object>) spec;
                    send(ex, 201, node.submitClusterJob(s, body.get("id")));
                } else {
                    send(ex, 201, node.submitJob(body.get("spec"), body.get("id")));
                }
            } else if (parts.length == 1 && method.equals("GET")) {
                int since = since(query);
                send(ex, 200, localOrCluster(Map.of("command", "status", "id", parts[0], "since", since),
                        Map.of("command", "job-status", "id", parts[0], "since", since)));
            } else if (parts.length == 2 && parts[1].equals("stop") && method.equals("POST")) {
                drain(ex);
                send(ex, 200, localOrCluster(Map.of("command", "stop", "id", parts[0], "wait_ms", waitMillis(query)),
                        Map.of("command", "job-stop", "id", parts[0], "wait_ms", waitMillis(query))));
            } else if (parts.length == 2 && parts[1].equals("backend") && method.equals("POST")) {
                Object backend = jsonBody(ex).get("backend");
                if (!(backend instanceof String b) || b.isBlank()) {
                    throw new ApiException(400, "body must be {\"backend\": NAME}");
                }
                send(ex, 200, node.jobs(Map.of("command", "move", "id", parts[0], "backend", b)));
            } else if (parts.length <= 2) {
                throw new ApiException(405, "method " + method + " is not allowed on " + path);
            } else {
                throw new ApiException(404, "no such route: " + method + " " + path);
            }
        } catch (IllegalArgumentException e) {
            throw new ApiException(e.getMessage() != null && e.getMessage().startsWith("no job '") ? 404 : 400,
                    e.getMessage());
        }
    }

    /** A cluster-job command; null when no cluster bundle runs or this node is not in a cluster. */
    private Map<String, Object> clusterJobs(Map<String, Object> request) throws Exception {
        try {
            return node.clusterJobs(request);
        } catch (ApiException e) {
            return null;
        }
    }

    /**
     * A job of this node, else a cluster job of that id (any node answers for every cluster
     * job); when neither exists, the node's own "no job" error, which says so.
     */
    private Map<String, Object> localOrCluster(Map<String, Object> local, Map<String, Object> cluster)
            throws Exception {
        try {
            return node.jobs(local);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("no job '")) {
                throw e;
            }
            Map<String, Object> c = clusterJobs(cluster);
            if (c == null || c.isEmpty()) {
                throw new IllegalArgumentException(e.getMessage() + (c == null ? "" : "; no cluster job has that id "
                        + "either"));
            }
            return c;
        }
    }

    /** {@code ?since=STEP}: only the points after that step (a client following a job); 0 when absent. */
    private static int since(Map<String, String> query) {
        String v = query.get("since");
        if (v == null) {
            return 0;
        }
        try {
            int s = Integer.parseInt(v);
            if (s >= 0) {
                return s;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new ApiException(400, "query parameter 'since' must be a step number, 0 or more, got '" + v + "'");
    }

    private static long waitMillis(Map<String, String> query) {
        String w = query.get("wait");
        if (w == null) {
            return 15_000;
        }
        try {
            return (long) (Double.parseDouble(w) * 1000);
        } catch (NumberFormatException e) {
            throw new ApiException(400, "query parameter 'wait' must be a number of seconds, got '" + w + "'");
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> m = new LinkedHashMap<>();
        String q = uri.getRawQuery();
        if (q == null) {
            return m;
        }
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return m;
    }

    private static Map<String, Object> error(String message) {
        return Map.of("error", message);
    }

    /**
     * Reads what is left of a small request body, so the client reads the response before the
     * connection closes; a large rest (a refused oversized upload) is not read: the server
     * closes the connection after the response instead.
     */
    private static void drain(HttpExchange ex) {
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[64 * 1024];
            long left = 1024 * 1024;
            int r;
            while (left > 0 && (r = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                left -= r;
            }
        } catch (IOException e) {
            // the client went away; the response will fail the same way
        }
    }

    private void send(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** An error with the HTTP status it maps to; its message reaches the client. */
    static final class ApiException extends RuntimeException {
        final int status;

        ApiException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

}
