package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * The console of a clustered node: the other members, shown as they come and go without a
 * reload, and deploys to the whole cluster through the bundle repository in Hazelcast. Each
 * node runs from a distribution of its own (its own deploy/), as on separate machines; the
 * cluster has a name of its own. Two nodes form a cluster; a bundle deployed from the first
 * one's console to the whole cluster becomes ACTIVE on both; a third node joins, appears on
 * the page live and installs the bundle too; removing it from the repository uninstalls it
 * everywhere; a node that stops disappears from the page live; a cluster job on the two nodes
 * left is listed beside the node's jobs (world, generation, losses), charted live on its page and
 * stopped from its row ({@code 14-cluster-job.png}, {@code 15-cluster-job-stopped.png}). Screenshots
 * {@code 09-cluster-two-nodes.png}, {@code 11-cluster-deploy.png},
 * {@code 11b-cluster-deploy-from-the-page.png}, {@code 12-cluster-node-joined.png}, {@code 13-cluster-bundles-three-nodes.png},
 * {@code 10-cluster-node-left.png}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleClusterIT {

    static final Map<String, String> SMALL_HEAP = Map.of("JAVA_OPTS", "-Xmx256m");
    static final long UPLOAD_LIMIT = 200_000;

    @TempDir
    static Path tmp;
    static String name;
    static String seed;
    static NodeProcess first;
    static NodeProcess second;
    static NodeProcess third;
    static Chromium chromium;
    static ConsoleClient console;
    static Path jars;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        name = "console-" + UUID.randomUUID().toString().substring(0, 8);
        Distribution d0 = Distribution.copyInto(Files.createDirectories(tmp.resolve("d0")));
        Path conf = d0.root.resolve("conf/cornerstone.properties");
        Files.writeString(conf, Files.readString(conf) + "console.upload.max.bytes=" + UPLOAD_LIMIT + "\n");
        first = NodeProcess.start(d0, tmp.resolve("node-0"), List.of("--cluster", "--cluster-name", name),
                SMALL_HEAP);
        seed = first.awaitJoined().path("local").path("address").asText();
        second = startJoining(1);
        second.awaitJoined();
        jars = tmp.resolve("jars");
        console = new ConsoleClient(first.console);
        assertThat(console.login(first.token).statusCode()).isEqualTo(200);
        first.await("the bundle repository on both nodes", Duration.ofSeconds(60), () ->
                console.ok("/api/repository").path("members").size() == 2);
        chromium = new Chromium(tmp);
    }

    static NodeProcess startJoining(int i) throws Exception {
        Distribution d = Distribution.copyInto(Files.createDirectories(tmp.resolve("d" + i)));
        return NodeProcess.start(d, tmp.resolve("node-" + i), List.of("--join", seed, "--cluster-name", name),
                SMALL_HEAP);
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
        for (NodeProcess n : new NodeProcess[]{third, second, first}) {
            if (n != null) {
                n.close();
            }
        }
    }


    /** The bundle as a node's own API lists it, or null. */
    static JsonNode bundleOn(NodeProcess n, String symbolicName) throws Exception {
        for (JsonNode b : n.get("/bundles").path("bundles")) {
            if (symbolicName.equals(b.path("symbolicName").asText())) {
                return b;
            }
        }
        return null;
    }

    static List<String> states(JsonNode entry) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : entry.path("nodes")) {
            out.add(n.path("state").asText());
        }
        return out;
    }

    static void assertNoStackTrace(HttpResponse<String> r) {
        assertThat(r.body()).doesNotContain("\tat ").doesNotContain(".java:").doesNotContainPattern("Exception\\s*\\n");
    }

    @Test
    @Order(1)
    void theClustersNodesAreListed() throws Exception {
        String secondId = second.get("/cluster").path("nodeId").asText();
        first.await("both members in the console", Duration.ofSeconds(60), () ->
                console.ok("/api/nodes").path("nodes").size() == 2);
        JsonNode nodes = console.ok("/api/nodes");
        assertThat(nodes.path("cluster").path("state").asText()).isEqualTo("joined");
        assertThat(nodes.path("cluster").path("message").isNull()).isTrue();
        JsonNode other = nodes.path("nodes").get(1);
        assertThat(other.path("self").asBoolean()).isFalse();
        assertThat(other.path("id").asText()).isEqualTo(secondId);
        assertThat(other.path("api").asText()).isEqualTo(second.api.toString());
        assertThat(other.path("backends").has("cpu")).isTrue();
        assertThat(other.path("bundleList").toString()).contains("dev.cornerstone.console")
                .contains("dev.cornerstone.repository");

        chromium.signIn(first);
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 2);
        chromium.waitText("#cluster-message", "2 nodes");
        assertThat(chromium.driver.findElement(By.cssSelector("#nodes [data-node='" + secondId + "']")).getText())
                .contains(secondId).contains("cpu").contains("bundles");
        chromium.screenshot("09-cluster-two-nodes");
    }

    @Test
    @Order(2)
    void refusedClusterDeploysStoreNothing() throws Exception {
        HttpResponse<String> noCsrf = console.upload("/api/repository?file=hello.jar",
                TestBundles.hello(jars.resolve("v1"), "1.0.0"), false);
        assertThat(noCsrf.statusCode()).isEqualTo(403);

        HttpResponse<String> big = console.upload("/api/repository?file=big.jar", new byte[(int) UPLOAD_LIMIT + 4096]);
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(ConsoleClient.json(big).path("error").asText()).contains("exceeds").contains("limit of "
                + UPLOAD_LIMIT);
        assertNoStackTrace(big);

        Path plain = jars.resolve("plain.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(plain), mf)) {
            out.putNextEntry(new java.util.jar.JarEntry("hello.txt"));
            out.write("not a bundle".getBytes(StandardCharsets.UTF_8));
        }
        HttpResponse<String> notBundle = console.upload("/api/repository?file=plain.jar", plain, true);
        assertThat(notBundle.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(notBundle).path("error").asText()).contains("not an OSGi bundle");
        assertNoStackTrace(notBundle);

        HttpResponse<String> junk = console.upload("/api/repository?file=junk.jar", TestBundles.corrupt(jars), true);
        assertThat(junk.statusCode()).isEqualTo(400);
        assertThat(ConsoleClient.json(junk).path("error").asText()).contains("junk.jar is not a valid jar");

        HttpResponse<String> unknown = console.delete("/api/repository/nothing.jar");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(ConsoleClient.json(unknown).path("error").asText()).contains("no bundle 'nothing.jar'");

        assertThat(console.ok("/api/repository").path("bundles")).as("nothing stored").isEmpty();
        try (var s = Files.list(first.dataDir.resolve("tmp"))) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("console-upload-")).toList())
                    .as("no upload left in the node's tmp/").isEmpty();
        }
    }

    @Test
    @Order(3)
    void aBundleDeployedToTheWholeClusterIsActiveOnEveryNode() throws Exception {
        HttpResponse<String> r = console.upload("/api/repository?file=hello.jar&wait=90",
                TestBundles.hello(jars.resolve("v1"), "1.0.0"), true);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode e = ConsoleClient.json(r);
        assertThat(e.path("action").asText()).isEqualTo("stored");
        assertThat(e.path("symbolicName").asText()).isEqualTo(TestBundles.HELLO);
        assertThat(e.path("version").asText()).isEqualTo("1.0.0");
        assertThat(e.path("sha256").asText()).hasSize(64);
        assertThat(e.path("uploader").asText()).isEqualTo("token");
        assertThat(states(e)).as(r.body()).containsExactly("ACTIVE", "ACTIVE");
        for (NodeProcess n : new NodeProcess[]{first, second}) {
            JsonNode b = bundleOn(n, TestBundles.HELLO);
            assertThat(b).as("on " + n.api).isNotNull();
            assertThat(b.path("state").asText()).isEqualTo("ACTIVE");
            assertThat(b.path("source").asText()).isEqualTo("deploy");
            assertThat(n.dist.deploy().resolve("hello.jar")).exists();
        }
        JsonNode listed = console.ok("/api/repository").path("bundles");
        assertThat(listed).hasSize(1);
        assertThat(states(listed.get(0))).containsExactly("ACTIVE", "ACTIVE");

        chromium.driver.get(first.console.resolve("/#/bundles").toString());
        chromium.waitText("#repository-table", TestBundles.HELLO);
        chromium.wait.until(d -> d.findElements(By.cssSelector(
                "#repository-table [data-repository='" + TestBundles.HELLO + "'] .badge.ACTIVE")).size() == 2);
        chromium.wait.until(d -> d.findElements(By.cssSelector(
                "#cluster-bundle-table tr[data-bundle='" + TestBundles.HELLO + "'] .badge.ACTIVE")).size() == 2);
        chromium.screenshot("11-cluster-deploy");

        // the same from the page: a newer jar of the bundle to the whole cluster replaces it on every node
        Path v11 = TestBundles.hello(jars.resolve("v11"), "1.1.0");
        new org.openqa.selenium.support.ui.Select(chromium.driver.findElement(By.id("deploy-target")))
                .selectByValue("cluster");
        chromium.driver.findElement(By.id("bundle-file")).sendKeys(v11.toString());
        chromium.driver.findElement(By.id("deploy")).click();
        chromium.waitText("#deploy-outcome", "replaced " + TestBundles.HELLO + " 1.1.0 for the whole cluster");
        String outcome = chromium.driver.findElement(By.id("deploy-outcome")).getText();
        assertThat(outcome.split("ACTIVE", -1)).as(outcome).hasSize(3);
        for (NodeProcess n : new NodeProcess[]{first, second}) {
            assertThat(bundleOn(n, TestBundles.HELLO).path("version").asText()).isEqualTo("1.1.0");
        }
        chromium.screenshot("11b-cluster-deploy-from-the-page");
    }

    @Test
    @Order(4)
    void aNodeThatJoinsLaterAppearsLiveAndGetsTheBundle() throws Exception {
        chromium.driver.get(first.console.resolve("/#/nodes").toString());
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 2);
        // no periodic re-reading: only the node's pushed events can redraw the page now
        chromium.js("window.cornerstone.autoRefresh = false;");
        long events = ((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue();
        third = startJoining(2);
        String thirdId = third.awaitJoined().path("nodeId").asText();
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes [data-node='" + thirdId + "']")).size() == 1);
        chromium.waitText("#cluster-message", "3 nodes");
        assertThat(((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue())
                .as("the node pushed the change").isGreaterThan(events);
        chromium.screenshot("12-cluster-node-joined");

        third.await("the bundle from the repository on the new node", Duration.ofSeconds(90), () -> {
            JsonNode b = bundleOn(third, TestBundles.HELLO);
            return b != null && b.path("state").asText().equals("ACTIVE");
        });
        assertThat(third.dist.deploy().resolve("hello-1.1.0.jar")).as("under the name it was uploaded with").exists();
        first.await("three results in the repository", Duration.ofSeconds(60), () ->
                states(console.ok("/api/repository").path("bundles").get(0)).equals(List.of("ACTIVE", "ACTIVE",
                        "ACTIVE")));

        chromium.driver.get(first.console.resolve("/#/bundles").toString());
        chromium.wait.until(d -> d.findElements(By.cssSelector(
                "#repository-table [data-repository='" + TestBundles.HELLO + "'] .badge.ACTIVE")).size() == 3);
        chromium.wait.until(d -> d.findElements(By.cssSelector("#cluster-bundle-table thead th")).size() == 4);
        chromium.screenshot("13-cluster-bundles-three-nodes");
    }

    @Test
    @Order(5)
    void removingItFromTheRepositoryUninstallsItEverywhere() throws Exception {
        HttpResponse<String> r = console.delete("/api/repository/" + TestBundles.HELLO + "?wait=60");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(ConsoleClient.json(r).path("action").asText()).isEqualTo("removed");
        assertThat(ConsoleClient.json(r).path("pending")).as(r.body()).isEmpty();
        for (NodeProcess n : new NodeProcess[]{first, second, third}) {
            n.await("the bundle uninstalled on " + n.api, Duration.ofSeconds(30), () ->
                    bundleOn(n, TestBundles.HELLO) == null);
            try (var files = Files.list(n.dist.deploy())) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("hello")).toList())
                        .as("deploy/ of " + n.api).isEmpty();
            }
        }
        assertThat(console.ok("/api/repository").path("bundles")).isEmpty();
    }

    @Test
    @Order(6)
    void aNodeThatLeavesDisappearsLive() throws Exception {
        String secondId = second.get("/cluster").path("nodeId").asText();
        chromium.driver.get(first.console.resolve("/#/nodes").toString());
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 3);
        chromium.js("window.cornerstone.autoRefresh = false;");
        long events = ((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue();
        second.stop(Duration.ofSeconds(30));
        // no reload: the page redraws on the node's event when the member is gone
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 2);
        chromium.waitText("#cluster-message", "2 nodes");
        assertThat(chromium.driver.findElements(By.cssSelector("[data-node='" + secondId + "']"))).isEmpty();
        assertThat(((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue())
                .as("the node pushed the change").isGreaterThan(events);
        chromium.screenshot("10-cluster-node-left");
        assertThat(console.ok("/api/nodes").path("nodes")).hasSize(2);

        // what it took, for the record (no assertion on speed)
        @SuppressWarnings("unchecked")
        List<Number> latencies = (List<Number>) chromium.js("return window.cornerstone.stats.nodeLatencies;");
        assertThat(latencies).as("the redraws after the pushed events were timed").isNotEmpty();
        List<Long> sorted = latencies.stream().map(Number::longValue).sorted().toList();
        String line = String.format(java.util.Locale.ROOT, "cluster event latency, Hazelcast listener on the node -> "
                + "nodes view redrawn (100 ms debounce and GET /api/nodes included), %d events: median %d ms, 95th "
                + "percentile %d ms, max %d ms", sorted.size(), sorted.get(sorted.size() / 2),
                sorted.get((int) Math.ceil(sorted.size() * 0.95) - 1), sorted.get(sorted.size() - 1));
        System.out.println("[console] " + line);
        Files.writeString(chromium.screenshots.resolve("console-cluster-metrics.txt"), line + "\n");
    }

    @Test
    @Order(7)
    void aClusterJobIsListedChartedLiveAndStoppedFromThePage() throws Exception {
        // the two nodes left (first and third) run a data-parallel job, one rank each
        Map<String, Object> spec = Map.of(
                "model", Map.of("name", "gpt", "n_layer", 1, "n_head", 2, "n_embd", 32, "block_size", 32,
                        "dropout", 0.0),
                "optimizer", Map.of("name", "adamw", "lr", 1.0e-3),
                "data", Map.of("name", "text", "path", first.dist.root.resolve("data/moby-dick.txt").toString(),
                        "tokenizer", "char"),
                "train", Map.of("batch_size", 4, "steps", 100_000, "eval_every", 0, "log_every", 1,
                        "checkpoint_every", 0, "seed", 7),
                "backend", Map.of("name", "cpu"),
                "cluster", Map.of("nodes", 2, "strategy", "ddp"));
        JsonNode submitted = first.post("/jobs", Map.of("spec", spec, "id", "cjob"), Duration.ofSeconds(60));
        assertThat(submitted.path("httpStatus").asInt()).as(submitted.toString()).isBetween(200, 201);

        // the page redraws the table at every pushed step: read and click through the DOM at once
        chromium.driver.get(first.console.resolve("/#/jobs").toString());
        String row = "#cluster-job-table tr[data-job='cjob']";
        chromium.wait.until(d -> text(row + " .badge").equals("running"));
        assertThat(text(row + " .world")).startsWith("2 nodes");
        assertThat(text(row + " .generation")).isEqualTo("1");
        chromium.wait.until(d -> !text(row + " .train-loss").equals("–") && !text(row + " .train-loss").isBlank());
        assertThat(chromium.driver.findElements(By.cssSelector("#job-table tr[data-job='cjob']")))
                .as("not among the node's own jobs").isEmpty();

        // its page: the loss chart grows from pushed events, without a reload
        chromium.js("document.querySelector(arguments[0]).click();", row + " a");
        chromium.waitText("#job-cluster", "generation 1");
        chromium.wait.until(d -> points() >= 2);
        int drawn = points();
        chromium.wait.until(d -> points() >= drawn + 3);
        assertThat(chromium.driver.findElements(By.id("move-job"))).as("no backend move for a cluster job").isEmpty();
        chromium.screenshot("14-cluster-job");

        // stopped from the jobs view: every rank stops after the same step, with a checkpoint
        chromium.driver.get(first.console.resolve("/#/jobs").toString());
        chromium.wait.until(d -> !text(row + " .stop-cluster-job").isEmpty());
        chromium.js("document.querySelector(arguments[0]).click();", row + " .stop-cluster-job");
        chromium.wait.until(d -> text(row + " .badge").equals("stopped"));
        assertThat(text(row + " .stop-cluster-job")).isEmpty();
        chromium.screenshot("15-cluster-job-stopped");
        JsonNode j = first.get("/jobs/cjob");
        assertThat(j.path("state").asText()).isEqualTo("stopped");
        assertThat(j.path("checkpoint_step").asInt()).isEqualTo(j.path("step").asInt());
        assertThat(j.path("points").size()).isEqualTo(j.path("step").asInt());
    }

    /** The text of the first element {@code css} selects, "" when there is none (read in one step: the page redraws). */
    static String text(String css) {
        Object t = chromium.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css);
        return t == null ? "" : t.toString();
    }

    /** Points drawn in the job page's loss chart. */
    static int points() {
        Object n = chromium.js("const e = document.getElementById('chart-loss'); return e ? e.dataset.points : '0';");
        return Integer.parseInt(String.valueOf(n));
    }
}
