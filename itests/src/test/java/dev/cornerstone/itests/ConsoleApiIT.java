package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.itests.bundles.badactivator.FailingActivator;

/**
 * The web console's REST API on a real node (bin/cornerstone node, its console bundle in
 * system/), from outside, as the page and scripts use it: every route of its OpenAPI document
 * refused without signing in and every change refused without the CSRF token; sign-in with the
 * token and with a user from the users file; bundles deployed, refused (too large, not a
 * bundle: nothing written, nothing installed), started, stopped, updated and removed; jobs
 * submitted (validation errors naming the field), followed over the event stream, moved,
 * stopped, with checkpoints and samples. No answer carries a stack trace.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleApiIT {

    /** Small, so an oversized upload is cheap to make. */
    static final long UPLOAD_LIMIT = 200_000;

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Path jars;
    static ConsoleClient console;
    static JsonNode openapi;

    /** A small, quick model: a step takes a few tens of milliseconds. */
    static Map<String, Object> spec(int steps) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", Map.of("name", "gpt", "n_layer", 1, "n_head", 2, "n_embd", 32, "block_size", 16));
        s.put("optimizer", Map.of("name", "adamw", "lr", 1e-3));
        s.put("data", Map.of("name", "text", "path", "data/moby-dick.txt", "tokenizer", "char"));
        s.put("train", Map.of("batch_size", 8, "steps", steps, "log_every", 1, "eval_every", 0,
                "checkpoint_every", 5));
        s.put("backend", Map.of("name", "cpu"));
        return s;
    }

    @BeforeAll
    static void startNode() throws Exception {
        dist = Distribution.copyInto(tmp);
        // A node without the cluster bundle: the console must not need it (the cluster view
        // then shows this node and says why; ConsoleClusterIT has the clustered case).
        try (Stream<Path> s = Files.list(dist.root.resolve("system"))) {
            for (Path jar : s.filter(p -> p.getFileName().toString().startsWith("cornerstone-cluster-")).toList()) {
                Files.delete(jar);
            }
        }
        Path conf = dist.root.resolve("conf/cornerstone.properties");
        Files.writeString(conf, Files.readString(conf) + "console.upload.max.bytes=" + UPLOAD_LIMIT + "\n");
        jars = tmp.resolve("jars");
        node = NodeProcess.start(dist, tmp.resolve("data"));
        assertThat(node.console).as("node.json names the console\n" + node.console()).isNotNull();
        assertThat(node.console()).contains("Console at " + node.console);
        console = new ConsoleClient(node.console);
        assertThat(console.login(node.token).statusCode()).isEqualTo(200);
        openapi = new ObjectMapper(new YAMLFactory()).readTree(console.get("/api/openapi.yaml").body());
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /** Every operation of the OpenAPI document: [method, path with example parameters]. */
    static List<String[]> operations() {
        List<String[]> ops = new ArrayList<>();
        openapi.path("paths").properties().forEach(p -> p.getValue().properties().forEach(op -> ops.add(new String[]{
            op.getKey().toUpperCase(), p.getKey().replace("{id}", p.getKey().startsWith("/api/bundles") ? "1" : "nope")
                .replace("{name}", "nope.jar")})));
        assertThat(ops).hasSizeGreaterThan(20);
        return ops;
    }

    static long deployedFiles() throws Exception {
        try (Stream<Path> s = Files.list(dist.deploy())) {
            return s.filter(p -> !p.getFileName().toString().equals("README.txt")).count();
        }
    }

    static JsonNode bundle(String symbolicName) throws Exception {
        for (JsonNode b : console.ok("/api/bundles").path("bundles")) {
            if (symbolicName.equals(b.path("symbolicName").asText())) {
                return b;
            }
        }
        return null;
    }

    static void assertNoStackTrace(HttpResponse<String> r) {
        assertThat(r.body()).doesNotContain("\tat ").doesNotContain(".java:").doesNotContainPattern("Exception\\s*\\n");
    }

    @Test
    void everyRouteButSignInIsRefusedWithoutASession() throws Exception {
        ConsoleClient stranger = new ConsoleClient(node.console);
        for (String[] op : operations()) {
            if (op[1].equals("/api/session") || op[1].equals("/api/login")) {
                continue;
            }
            HttpResponse<String> r = stranger.send(op[0], op[1], op[0].equals("GET") ? null : "{}",
                    "application/json", false, null);
            assertThat(r.statusCode()).as(op[0] + " " + op[1] + ": " + r.body()).isEqualTo(401);
            assertThat(ConsoleClient.json(r).path("error").asText()).contains("sign in");
            HttpResponse<String> wrong = stranger.send(op[0], op[1], null, null, false, "0".repeat(64));
            assertThat(wrong.statusCode()).as(op[0] + " " + op[1] + " with a wrong token").isEqualTo(401);
        }
        HttpResponse<String> page = stranger.get("/");
        assertThat(page.statusCode()).isEqualTo(302);
        assertThat(page.headers().firstValue("Location")).hasValue("/public/login.html");
        assertThat(page.headers().firstValue("Set-Cookie")).as("a stranger gets no session").isEmpty();
        assertThat(stranger.get("/app.js").statusCode()).as("the app's script needs a session too").isEqualTo(302);
        assertThat(stranger.get("/public/login.html").statusCode()).isEqualTo(200);
        assertThat(stranger.sessionCookie()).isNull();
        HttpResponse<String> s = stranger.get("/api/session");
        assertThat(s.statusCode()).isEqualTo(200);
        assertThat(ConsoleClient.json(s).path("authenticated").asBoolean()).isFalse();
        String cookie = s.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HTTPOnly").contains("SameSite=Strict");
        assertThat(s.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("script-src 'self'");
    }

    @Test
    void everyChangeOnASessionNeedsTheCsrfToken() throws Exception {
        ConsoleClient c = new ConsoleClient(node.console);
        assertThat(c.login(node.token).statusCode()).isEqualTo(200);
        long deployed = deployedFiles();
        int jobs = c.ok("/api/jobs").path("jobs").size();
        for (String[] op : operations()) {
            if (op[0].equals("GET") || op[1].equals("/api/login")) {
                continue;
            }
            HttpResponse<String> r = c.send(op[0], op[1], "{}", "application/json", false, null);
            assertThat(r.statusCode()).as(op[0] + " " + op[1] + ": " + r.body()).isEqualTo(403);
            assertThat(ConsoleClient.json(r).path("error").asText()).contains("CSRF");
        }
        HttpResponse<String> upload = c.upload("/api/bundles?file=hello.jar", TestBundles.hello(jars.resolve("csrf"),
                "1.0.0"), false);
        assertThat(upload.statusCode()).isEqualTo(403);
        HttpResponse<String> submit = c.send("POST", "/api/jobs", NodeProcess.JSON.writeValueAsString(Map.of("spec",
                spec(5))), "application/json", false, null);
        assertThat(submit.statusCode()).isEqualTo(403);
        // a stale token (another session's) is no better than none
        ConsoleClient other = new ConsoleClient(node.console);
        other.login(node.token);
        HttpResponse<String> stale = c.send("POST", "/api/logout", null, null, false, null);
        assertThat(stale.statusCode()).isEqualTo(403);
        c.csrf = other.csrf;
        assertThat(c.send("POST", "/api/jobs", "{}", "application/json", true, null).statusCode()).isEqualTo(403);
        assertThat(deployedFiles()).isEqualTo(deployed);
        assertThat(c.ok("/api/jobs").path("jobs").size()).isEqualTo(jobs);
        assertThat(c.ok("/api/session").path("authenticated").asBoolean()).as("still signed in").isTrue();
    }

    @Test
    void signInWithTheTokenOrAUserAndSignOut() throws Exception {
        ConsoleClient c = new ConsoleClient(node.console);
        c.session();
        String before = c.sessionCookie();
        HttpResponse<String> noCsrf = c.send("POST", "/api/login", "{\"token\":\"" + node.token + "\"}",
                "application/json", false, null);
        assertThat(noCsrf.statusCode()).isEqualTo(403);
        HttpResponse<String> wrong = c.send("POST", "/api/login", "{\"token\":\"nope\"}", "application/json", true,
                null);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(ConsoleClient.json(wrong).path("error").asText()).contains("wrong token");
        HttpResponse<String> ok = c.login(node.token);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ConsoleClient.json(ok).path("user").asText()).isEqualTo("token");
        assertThat(c.sessionCookie()).as("a new session id at sign-in").isNotEqualTo(before);
        assertThat(c.ok("/api/node").path("version").asText()).isNotEmpty();
        assertThat(c.post("/api/logout", null).statusCode()).isEqualTo(200);
        assertThat(c.get("/api/node").statusCode()).isEqualTo(401);

        // a user from conf/console-users, its line made by the console's own tool
        Path system = dist.root.resolve("system");
        Path jar;
        try (Stream<Path> s = Files.list(system)) {
            jar = s.filter(p -> p.getFileName().toString().startsWith("cornerstone-console-")).findFirst().orElseThrow();
        }
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                jar.toString(), "dev.cornerstone.console.Passwords", "alice").redirectErrorStream(false).start();
        p.getOutputStream().write("correct horse battery\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).as(line).isZero();
        assertThat(line).startsWith("alice=pbkdf2-sha256:600000:");
        Files.writeString(dist.root.resolve("conf/console-users"), "# console users\n" + line + "\n");
        ConsoleClient alice = new ConsoleClient(node.console);
        alice.session();
        HttpResponse<String> bad = alice.send("POST", "/api/login",
                "{\"user\":\"alice\",\"password\":\"wrong horse battery\"}", "application/json", true, null);
        assertThat(bad.statusCode()).isEqualTo(401);
        HttpResponse<String> good = alice.send("POST", "/api/login",
                "{\"user\":\"alice\",\"password\":\"correct horse battery\"}", "application/json", true, null);
        assertThat(good.statusCode()).as(good.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(alice.get("/api/session")).path("user").asText()).isEqualTo("alice");
    }

    @Test
    void theNodeAndTheClusterView() throws Exception {
        JsonNode n = console.ok("/api/node");
        assertThat(n.path("version").asText()).isNotEmpty();
        assertThat(n.path("uptimeMillis").asLong()).isPositive();
        assertThat(n.path("cores").asInt()).isPositive();
        assertThat(n.path("memory").path("heap_max_bytes").asLong()).isPositive();
        assertThat(n.path("memory").path("physical_total_bytes").asLong()).isPositive();
        assertThat(n.path("load").has("system_load_average")).isTrue();
        assertThat(n.path("backends").path("cpu").asText()).contains("CPU");
        assertThat(n.path("console").asText()).isEqualTo(node.console.toString());
        JsonNode nodes = console.ok("/api/nodes");
        assertThat(nodes.path("cluster").path("state").asText()).isEqualTo("absent");
        assertThat(nodes.path("cluster").path("message").asText()).contains("dev.cornerstone.cluster");
        assertThat(nodes.path("nodes")).hasSize(1);
        assertThat(nodes.path("nodes").get(0).path("self").asBoolean()).isTrue();
        assertThat(console.ok("/api/backends").path("backends").has("cpu")).isTrue();
        assertThat(console.ok("/api/spec/default").path("spec").path("model").path("name").asText()).isEqualTo("gpt");
        HttpResponse<String> yaml = console.get("/api/openapi.yaml");
        assertThat(yaml.headers().firstValue("Content-Type").orElse("")).contains("yaml");
        JsonNode self = bundle("dev.cornerstone.console");
        assertThat(self.path("state").asText()).isEqualTo("ACTIVE");
        assertThat(self.path("self").asBoolean()).isTrue();
        assertThat(self.path("source").asText()).isEqualTo("system");
        HttpResponse<String> none = console.get("/api/nothing-here");
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(ConsoleClient.json(none).path("error").asText()).contains("no such route");
    }

    @Test
    void aBundleIsDeployedStoppedStartedUpdatedAndRemoved() throws Exception {
        HttpResponse<String> r = console.upload("/api/bundles?file=hello.jar", TestBundles.hello(jars.resolve("v1"),
                "1.0.0"), true);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode d = ConsoleClient.json(r);
        assertThat(d.path("action").asText()).isEqualTo("installed");
        assertThat(d.path("bundle").path("state").asText()).isEqualTo("ACTIVE");
        assertThat(dist.deploy().resolve("hello.jar")).exists();
        long id = d.path("bundle").path("id").asLong();

        JsonNode stopped = ConsoleClient.json(console.post("/api/bundles/" + id + "/stop", null));
        assertThat(stopped.path("state").asText()).isEqualTo("RESOLVED");
        JsonNode started = ConsoleClient.json(console.post("/api/bundles/" + id + "/start", null));
        assertThat(started.path("state").asText()).isEqualTo("ACTIVE");
        HttpResponse<String> reread = console.post("/api/bundles/" + id + "/update", null);
        assertThat(reread.statusCode()).as(reread.body()).isEqualTo(200);
        assertThat(bundle(TestBundles.HELLO).path("state").asText()).isEqualTo("ACTIVE");

        HttpResponse<String> wrongJar = console.upload("/api/bundles/" + id + "/update",
                TestBundles.provider(jars.resolve("other")), true);
        assertThat(wrongJar.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(wrongJar).path("error").asText()).contains("not " + TestBundles.HELLO);
        HttpResponse<String> v2 = console.upload("/api/bundles/" + id + "/update?wait=20",
                TestBundles.hello(jars.resolve("v2"), "2.0.0"), true);
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(v2).path("action").asText()).isEqualTo("updated");
        assertThat(ConsoleClient.json(v2).path("bundle").path("version").asText()).isEqualTo("2.0.0");
        assertThat(ConsoleClient.json(v2).path("bundle").path("state").asText()).isEqualTo("ACTIVE");

        HttpResponse<String> gone = console.delete("/api/bundles/hello.jar");
        assertThat(gone.statusCode()).as(gone.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(gone).path("uninstalled").asBoolean()).isTrue();
        assertThat(dist.deploy().resolve("hello.jar")).doesNotExist();
        assertThat(bundle(TestBundles.HELLO)).isNull();
        HttpResponse<String> again = console.delete("/api/bundles/hello.jar");
        assertThat(again.statusCode()).isEqualTo(404);
    }

    @Test
    void refusedUploadsLeaveNothingBehind() throws Exception {
        long deployed = deployedFiles();
        int bundles = console.ok("/api/bundles").path("bundles").size();
        Path uploads = node.dataDir.resolve("tmp");

        HttpResponse<String> big = console.upload("/api/bundles?file=big.jar", new byte[(int) UPLOAD_LIMIT + 4096]);
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(ConsoleClient.json(big).path("error").asText()).contains("exceeds").contains("limit of "
                + UPLOAD_LIMIT);
        assertNoStackTrace(big);

        HttpResponse<String> junk = console.upload("/api/bundles?file=junk.jar", TestBundles.corrupt(jars), true);
        assertThat(junk.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(junk).path("error").asText()).contains("junk.jar is not a valid jar");

        Path plain = jars.resolve("plain.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(plain), mf)) {
            out.putNextEntry(new java.util.jar.JarEntry("hello.txt"));
            out.write("not a bundle".getBytes(StandardCharsets.UTF_8));
        }
        HttpResponse<String> notBundle = console.upload("/api/bundles?file=plain.jar", plain, true);
        assertThat(notBundle.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(notBundle).path("error").asText()).contains("plain.jar")
                .contains("not an OSGi bundle");

        HttpResponse<String> empty = console.upload("/api/bundles?file=e.jar", new byte[0]);
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(empty).path("error").asText()).contains("empty upload");

        assertThat(deployedFiles()).as("nothing written into deploy/").isEqualTo(deployed);
        assertThat(console.ok("/api/bundles").path("bundles").size()).as("nothing installed").isEqualTo(bundles);
        try (Stream<Path> s = Files.list(uploads)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("console-upload-")).toList())
                    .as("no upload left in the node's tmp/").isEmpty();
        }
        assertThat(console.ok("/api/node").path("problems").asInt()).isZero();
    }

    @Test
    void withoutAClusterNothingIsDeployedToTheWholeCluster() throws Exception {
        long deployed = deployedFiles();
        JsonNode repo = console.ok("/api/repository");
        assertThat(repo.path("available").asBoolean()).isFalse();
        assertThat(repo.path("message").asText()).contains("dev.cornerstone.cluster");
        assertThat(repo.path("bundles")).isEmpty();

        HttpResponse<String> r = console.upload("/api/repository?file=hello.jar", TestBundles.hello(
                jars.resolve("cluster"), "1.0.0"), true);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        assertThat(ConsoleClient.json(r).path("error").asText()).contains("cannot deploy to the whole cluster")
                .contains("dev.cornerstone.cluster").contains("nothing was stored");
        assertNoStackTrace(r);
        HttpResponse<String> gone = console.delete("/api/repository/hello.jar");
        assertThat(gone.statusCode()).isEqualTo(409);
        assertThat(deployedFiles()).as("nothing written into deploy/").isEqualTo(deployed);
        assertThat(bundle(TestBundles.HELLO)).isNull();

        // every bundle on every node: here, this node's
        JsonNode all = console.ok("/api/cluster/bundles");
        assertThat(all.path("nodes")).hasSize(1);
        assertThat(all.path("nodes").get(0).path("self").asBoolean()).isTrue();
        boolean found = false;
        for (JsonNode b : all.path("bundles")) {
            if (b.path("symbolicName").asText().equals("dev.cornerstone.console")) {
                assertThat(b.path("nodes").path("self").path("state").asText()).isEqualTo("ACTIVE");
                found = true;
            }
        }
        assertThat(found).as(all.toString()).isTrue();
    }

    @Test
    void failuresAreShownWithTheFrameworksMessage() throws Exception {
        HttpResponse<String> r = console.upload("/api/bundles?file=bad-activator.jar", TestBundles.badActivator(jars),
                true);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode b = ConsoleClient.json(r).path("bundle");
        assertThat(b.path("state").asText()).isEqualTo("RESOLVED");
        assertThat(b.path("problem").asText()).contains(FailingActivator.MESSAGE);
        long id = b.path("id").asLong();
        HttpResponse<String> start = console.post("/api/bundles/" + id + "/start", null);
        assertThat(start.statusCode()).isEqualTo(409);
        assertThat(ConsoleClient.json(start).path("error").asText()).contains("could not start "
                + TestBundles.BAD_ACTIVATOR).contains(FailingActivator.MESSAGE);
        assertNoStackTrace(start);
        assertThat(bundle(TestBundles.BAD_ACTIVATOR).path("problem").asText()).contains(FailingActivator.MESSAGE);

        assertThat(console.post("/api/bundles/0/stop", null).statusCode()).isEqualTo(409);
        long self = bundle("dev.cornerstone.console").path("id").asLong();
        HttpResponse<String> selfStop = console.post("/api/bundles/" + self + "/stop", null);
        assertThat(selfStop.statusCode()).isEqualTo(409);
        assertThat(ConsoleClient.json(selfStop).path("error").asText()).contains("this console");
        JsonNode vertx = bundle("io.vertx.web");
        assertThat(vertx.path("console_uses").asBoolean()).isTrue();
        HttpResponse<String> dependency = console.post("/api/bundles/" + vertx.path("id").asLong() + "/stop", null);
        assertThat(dependency.statusCode()).isEqualTo(409);
        assertThat(ConsoleClient.json(dependency).path("error").asText()).contains("the console runs on it");
        assertThat(bundle("io.vertx.web").path("state").asText()).isEqualTo("ACTIVE");
        assertThat(console.post("/api/bundles/999999/start", null).statusCode()).isEqualTo(404);
        assertThat(console.post("/api/bundles/abc/start", null).statusCode()).isEqualTo(400);
        HttpResponse<String> system = console.delete("/api/bundles/dev.cornerstone.core");
        assertThat(system.statusCode()).isEqualTo(409);
        assertThat(ConsoleClient.json(system).path("error").asText()).contains("system bundle");
        assertThat(console.delete("/api/bundles/bad-activator.jar").statusCode()).isEqualTo(200);
    }

    @Test
    void aJobIsSubmittedFollowedLiveMovedAndStopped() throws Exception {
        Map<String, Object> bad = spec(5);
        bad.put("train", Map.of("batch_size", 0, "steps", 5));
        HttpResponse<String> invalid = console.post("/api/jobs", Map.of("spec", bad, "id", "invalid"));
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(invalid).path("field").asText()).isEqualTo("train.batch_size");
        assertThat(ConsoleClient.json(invalid).path("error").asText()).contains("train.batch_size");
        assertThat(node.dataDir.resolve("runs/invalid")).doesNotExist();
        HttpResponse<String> notJson = console.send("POST", "/api/jobs", "{spec:", "application/json", true, null);
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(notJson).path("error").asText()).contains("not valid JSON");
        assertNoStackTrace(notJson);

        // the event stream, opened before the job starts
        HttpRequest events = HttpRequest.newBuilder(node.console.resolve("/api/events"))
                .header("Authorization", "Bearer " + node.token).GET().build();
        HttpResponse<InputStream> stream = HttpClient.newHttpClient().send(events,
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<JsonNode> seen = new ArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> readJobEvents(stream.body(), "live", seen));

        HttpResponse<String> submitted = console.post("/api/jobs", Map.of("spec", spec(1_000_000), "id", "live"));
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        assertThat(ConsoleClient.json(submitted).path("state").asText()).isEqualTo("running");
        node.await("12 steps of job live", Duration.ofSeconds(120), () -> console.ok("/api/jobs/live").path("step")
                .asInt() >= 12);
        HttpResponse<String> move = console.post("/api/jobs/live/backend", Map.of("backend", "cpu"));
        assertThat(move.statusCode()).as(move.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(move).path("to").asText()).isEqualTo("cpu");
        HttpResponse<String> nowhere = console.post("/api/jobs/live/backend", Map.of("backend", "nope"));
        assertThat(nowhere.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(nowhere).path("error").asText()).contains("no backend named 'nope'");

        HttpResponse<String> sample = console.post("/api/jobs/live/samples", Map.of("prompt", "Call me ",
                "tokens", 30, "seed", 7));
        assertThat(sample.statusCode()).as(sample.body()).isEqualTo(201);
        assertThat(ConsoleClient.json(sample).path("text").asText()).hasSize(30);
        assertThat(console.ok("/api/jobs/live/samples").path("samples")).hasSize(1);
        HttpResponse<String> badSample = console.post("/api/jobs/live/samples", Map.of("tokens", -1));
        assertThat(badSample.statusCode()).isEqualTo(400);

        HttpResponse<String> stop = console.post("/api/jobs/live/stop?wait=60", null);
        assertThat(stop.statusCode()).as(stop.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(stop).path("state").asText()).isEqualTo("stopped");
        reader.get(60, TimeUnit.SECONDS);
        stream.body().close();

        JsonNode st = console.ok("/api/jobs/live");
        int step = st.path("step").asInt();
        List<Integer> pushed = seen.stream().filter(e -> e.path("event").asText().equals("step"))
                .map(e -> e.path("step").asInt()).toList();
        assertThat(seen.get(0).path("event").asText()).isEqualTo("start");
        assertThat(seen.get(seen.size() - 1).path("event").asText()).isEqualTo("end");
        assertThat(seen.stream().anyMatch(e -> e.path("event").asText().equals("move"))).isTrue();
        assertThat(pushed).as("every logged step pushed, in order").hasSize(st.path("points").size());
        for (int i = 0; i < pushed.size(); i++) {
            assertThat(pushed.get(i)).isEqualTo(i + 1);
        }
        assertThat(seen.stream().allMatch(e -> e.path("t_ms").asLong() > 0)).isTrue();
        JsonNode checkpoints = console.ok("/api/jobs/live/checkpoints").path("checkpoints");
        assertThat(checkpoints.get(checkpoints.size() - 1).path("step").asInt()).as("a checkpoint at the stop")
                .isEqualTo(step);
        assertThat(checkpoints.get(0).path("files").toString()).contains("model.safetensors");
        assertThat(console.ok("/api/jobs").path("jobs").toString()).contains("\"live\"");
        assertThat(console.get("/api/jobs/nope").statusCode()).isEqualTo(404);
        assertThat(console.post("/api/jobs/nope/stop", null).statusCode()).isEqualTo(404);
    }

    /** Reads server-sent events until job {@code id} ends. */
    static void readJobEvents(InputStream in, String id, List<JsonNode> seen) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String event = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ") && "job".equals(event)) {
                    JsonNode e = NodeProcess.JSON.readTree(line.substring(6));
                    if (id.equals(e.path("job").asText())) {
                        synchronized (seen) {
                            seen.add(e);
                        }
                        if (e.path("event").asText().equals("end")) {
                            return;
                        }
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Last: it restarts the console on a new port. */
    @Test
    @Order(Integer.MAX_VALUE)
    void theConsoleFollowsItsConfigAdminConfiguration() throws Exception {
        Path cfg = dist.deploy().resolve("dev.cornerstone.console.cfg");
        Files.writeString(cfg, "upload.max.bytes=1000\nprot=9090\n");
        node.await("the refusal of an unknown key in the log", Duration.ofSeconds(30), () -> node.log().contains(
                "Console configuration not applied (the console keeps running on " + node.console + "): console "
                        + "configuration (PID dev.cornerstone.console): prot is not a known key"));
        assertThat(console.ok("/api/node").path("upload_max_bytes").asLong()).as("still the old settings")
                .isEqualTo(UPLOAD_LIMIT);

        Files.writeString(cfg, "upload.max.bytes=1000\n");
        URI before = node.console;
        node.await("the console on its new settings", Duration.ofSeconds(30), () -> {
            String now = node.get("/node").path("console").asText(null);
            return now != null && !now.equals(before.toString());
        });
        ConsoleClient moved = new ConsoleClient(URI.create(node.get("/node").path("console").asText()));
        assertThat(moved.login(node.token).statusCode()).isEqualTo(200);
        assertThat(moved.ok("/api/node").path("upload_max_bytes").asLong()).isEqualTo(1000);
        HttpResponse<String> big = moved.upload("/api/bundles?file=hello.jar", TestBundles.hello(jars.resolve("cfg"),
                "1.0.0"), true);
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(ConsoleClient.json(big).path("error").asText()).contains("limit of 1000");
        assertThat(node.log()).contains("Console configuration changed: restarting the console");
    }

    @Test
    void theCommandLineWorksAgainstTheConsoleToo() throws Exception {
        URI c = node.console;
        Distribution.Result r = dist.run("bundles", "list", "--node", c.getHost() + ":" + c.getPort(), "--token",
                node.token);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("dev.cornerstone.console").contains("ACTIVE");
    }
}
