package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes of one distribution, each its own JVM with its own data folder, form a
 * cluster on loopback ({@code cornerstone node --cluster}, then {@code --join}) under a
 * cluster name of their own: they list each other (API and {@code cornerstone nodes}), run
 * collectives between the processes with exact results, and when one is killed with
 * SIGKILL mid-collective the others fail within the timeout with a message naming the
 * lost rank. A node told to join where nobody is says so instead of forming a cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    static final Map<String, String> SMALL_HEAP = Map.of("JAVA_OPTS", "-Xmx256m");

    @TempDir
    static Path tmp;

    final String clusterName = "it-" + UUID.randomUUID().toString().substring(0, 8);
    Distribution dist;
    final List<NodeProcess> nodes = new ArrayList<>();
    final List<String> ids = new ArrayList<>();

    @BeforeAll
    void startThreeNodes() throws Exception {
        dist = Distribution.copyInto(tmp);
        NodeProcess first = NodeProcess.start(dist, tmp.resolve("node-0"),
                List.of("--cluster", "--cluster-name", clusterName), SMALL_HEAP);
        nodes.add(first);
        JsonNode c0 = first.awaitJoined();
        String seed = c0.path("local").path("address").asText();
        assertThat(seed).startsWith("127.0.0.1:");
        // The other two start together and join through the first one's cluster address.
        List<CompletableFuture<NodeProcess>> others = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            Path data = tmp.resolve("node-" + i);
            others.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return NodeProcess.start(dist, data, List.of("--join", seed, "--cluster-name", clusterName),
                            SMALL_HEAP);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<NodeProcess> f : others) {
            nodes.add(f.get(3, TimeUnit.MINUTES));
        }
        for (NodeProcess n : nodes) {
            ids.add(n.awaitJoined().path("nodeId").asText());
        }
    }

    @AfterAll
    void stopNodes() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.close();
        }
    }


    @Test
    @Order(1)
    void threeNodesListEachOther() throws Exception {
        Set<String> want = new TreeSet<>(ids);
        assertThat(want).hasSize(3);
        for (NodeProcess n : nodes) {
            n.await("3 members", Duration.ofSeconds(60), () -> n.get("/cluster").path("members").size() == 3);
            JsonNode c = n.get("/cluster");
            assertThat(c.path("name").asText()).isEqualTo(clusterName);
            Set<String> seen = new TreeSet<>();
            for (JsonNode m : c.path("members")) {
                seen.add(m.path("id").asText());
                assertThat(m.path("cluster").asText()).isEqualTo(clusterName);
                assertThat(m.path("address").asText()).startsWith("127.0.0.1:");
                assertThat(m.path("eventBus").asText()).startsWith("127.0.0.1:");
                assertThat(m.path("cores").asInt()).isPositive();
                assertThat(m.path("maxHeapBytes").asLong()).isLessThanOrEqualTo(256L << 20);
                assertThat(m.path("backends").findValuesAsText("name")).contains("cpu");
                List<String> bundles = new ArrayList<>();
                for (JsonNode b : m.path("bundles")) {
                    bundles.add(b.path("symbolicName").asText() + " " + b.path("version").asText() + " "
                            + b.path("state").asText());
                }
                assertThat(bundles).anyMatch(b -> b.startsWith("dev.cornerstone.cluster 0.1.0") && b.endsWith("ACTIVE"))
                        .anyMatch(b -> b.startsWith("com.hazelcast 5.3.8"));
            }
            assertThat(seen).isEqualTo(want);
        }
        // Each registry entry carries its node's API address, so any node leads to all others.
        for (int i = 0; i < 3; i++) {
            String id = ids.get(i);
            String api = nodes.get(i).api.toString();
            NodeProcess other = nodes.get((i + 1) % 3);
            other.await("API of " + id + " announced", Duration.ofSeconds(30), () -> {
                for (JsonNode m : other.get("/cluster").path("members")) {
                    if (m.path("id").asText().equals(id) && m.path("api").asText().equals(api)) {
                        return true;
                    }
                }
                return false;
            });
        }
        Distribution.Result list = dist.run(tmp, "nodes", "--data", tmp.resolve("node-1").toString());
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains("Cluster '" + clusterName + "': 3 members").contains(ids.get(1) + "*");
        for (String id : ids) {
            assertThat(list.out()).contains(id);
        }
        for (NodeProcess n : nodes) {
            assertThat(n.log()).doesNotContain("ERROR");
            assertThat(Distribution.withoutIncubatorWarning(n.console())).doesNotContain("WARNING:").doesNotContain("jdk.net.ExtendedSocketOptions");
        }
    }

    /** Calls every node's POST path at once (one rank each) and returns the answers by rank. */
    private List<JsonNode> everyRank(List<NodeProcess> ranks, String path, Map<String, Object> body,
                                     Duration timeout) throws Exception {
        List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
        List<String> rankNodes = new ArrayList<>();
        for (NodeProcess n : ranks) {
            rankNodes.add(ids.get(nodes.indexOf(n)));
        }
        for (int r = 0; r < ranks.size(); r++) {
            Map<String, Object> req = new LinkedHashMap<>(body);
            req.put("rank", r);
            req.put("nodes", rankNodes);
            NodeProcess n = ranks.get(r);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return n.post(path, req, timeout);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<JsonNode> out = new ArrayList<>();
        for (CompletableFuture<JsonNode> f : fs) {
            out.add(f.get(timeout.toSeconds() + 30, TimeUnit.SECONDS));
        }
        return out;
    }

    @Test
    @Order(2)
    void collectivesBetweenTheProcessesAreExact() throws Exception {
        // Over the default socket transport, and through shared memory (every node is on this host).
        exactCollectives("socket", "array");
        java.util.Set<String> before = ringFiles();
        exactCollectives("shm", "segment");
        assertThat(ringFiles()).as("shared-memory files the rings left behind in /dev/shm")
                .isSubsetOf(before);
    }

    /** The ring files in /dev/shm now (none where there is no /dev/shm: they go to the temporary directory). */
    private static java.util.Set<String> ringFiles() throws java.io.IOException {
        java.nio.file.Path shm = java.nio.file.Path.of("/dev/shm");
        if (!java.nio.file.Files.isDirectory(shm)) {
            return java.util.Set.of();
        }
        try (var files = java.nio.file.Files.list(shm)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("cornerstone-ring-"))
                    .collect(java.util.stream.Collectors.toSet());
        }
    }

    private void exactCollectives(String transport, String operand) throws Exception {
        for (String op : List.of("all-reduce", "all-gather", "broadcast")) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("job", "exact-" + transport + "-" + op);
            body.put("transport", transport);
            body.put("operand", operand);
            body.put("op", op);
            body.put("floats", 1_000_003); // not divisible by 3 nor by the chunk
            body.put("root", 1);
            body.put("iterations", 2);
            body.put("chunkBytes", 256 << 10);
            body.put("timeoutSeconds", 60);
            List<JsonNode> answers = everyRank(nodes, "/cluster/collective", body, Duration.ofSeconds(120));
            for (JsonNode a : answers) {
                assertThat(a.path("ok").asBoolean()).as(a.toString()).isTrue();
                assertThat(a.path("world").asInt()).isEqualTo(3);
                assertThat(a.path("seconds").size()).isEqualTo(2);
                assertThat(a.path("transport").asText()).isEqualTo(transport.equals("shm") ? "SHARED_MEMORY" : "SOCKET");
            }
        }
    }

    /** The bench's reference: plain TCP in the same ring, from a 1 MiB buffer in cache or from buffers of the whole size. */
    @Test
    @Order(2)
    void plainTcpInTheRingMovesEveryByteWithEitherBuffer() throws Exception {
        for (String buffer : List.of("chunk", "whole")) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("job", "tcp-" + buffer);
            body.put("bytes", (3 << 20) + 5); // not a whole number of MiB, nor of floats
            body.put("iterations", 2);
            body.put("buffer", buffer);
            body.put("timeoutSeconds", 60);
            for (JsonNode a : everyRank(nodes, "/cluster/tcp", body, Duration.ofSeconds(120))) {
                assertThat(a.path("ok").asBoolean()).as(a.toString()).isTrue();
                assertThat(a.path("buffer").asText()).isEqualTo(buffer);
                assertThat(a.path("seconds").size()).isEqualTo(2);
                assertThat(a.path("bandwidth").asDouble()).isPositive();
            }
        }
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("job", "tcp-bad");
        bad.put("bytes", 1024);
        bad.put("buffer", "huge");
        bad.put("rank", 0);
        bad.put("nodes", ids);
        JsonNode refused = nodes.get(0).post("/cluster/tcp", bad, Duration.ofSeconds(30));
        assertThat(refused.path("httpStatus").asInt()).as(refused.toString()).isEqualTo(400);
        assertThat(refused.toString()).contains("buffer 'huge' is not chunk or whole");
    }

    @Test
    @Order(3)
    void aCollectiveWhosePeerIsKilledFailsWithinItsTimeoutNamingIt() throws Exception {
        int timeoutSeconds = 10;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job", "doomed");
        body.put("op", "all-reduce");
        body.put("floats", 1 << 18);
        body.put("iterations", 1_000_000); // runs until a peer dies
        body.put("timeoutSeconds", timeoutSeconds);
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        List<String> rankNodes = List.copyOf(ids);
        for (int r = 0; r < 3; r++) {
            Map<String, Object> req = new LinkedHashMap<>(body);
            req.put("rank", r);
            req.put("nodes", rankNodes);
            NodeProcess n = nodes.get(r);
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return n.post("/cluster/collective", req, Duration.ofSeconds(300));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        Thread.sleep(5_000); // the ring is formed and all-reducing
        for (CompletableFuture<JsonNode> a : answers) {
            assertThat(a).as("still running before the kill").isNotDone();
        }
        NodeProcess victim = nodes.get(2);
        long killedAt = System.nanoTime();
        victim.kill();
        for (int r = 0; r < 2; r++) {
            JsonNode a = answers.get(r).get(timeoutSeconds + 30, TimeUnit.SECONDS);
            double afterKill = (System.nanoTime() - killedAt) / 1e9;
            assertThat(a.path("ok").asBoolean()).as(a.toString()).isFalse();
            String error = a.path("error").asText();
            System.out.printf("rank %d failed %.1f s after the kill: %s%n", r, (System.nanoTime() - killedAt) / 1e9,
                    error);
            assertThat(error).as("rank %d", r).contains("all-reduce").contains("rank 2").contains("job 'doomed'");
            assertThat(afterKill).as("seconds from the kill to rank %d's failure: %s", r, error)
                    .isLessThan(timeoutSeconds + 5);
        }
        // The survivors see the member gone and its registry entry removed.
        NodeProcess survivor = nodes.get(0);
        survivor.await("2 members", Duration.ofSeconds(60), () -> survivor.get("/cluster").path("members").size() == 2);
        nodes.remove(victim);
    }

    @Test
    @Order(4)
    void joiningWhereNobodyIsFailsInsteadOfFormingAClusterAlone() throws Exception {
        // A port in the cluster range nobody listens on (the nodes above took the first ones).
        try (NodeProcess lost = NodeProcess.start(dist, tmp.resolve("lost"),
                List.of("--join", "127.0.0.1:5799", "--cluster-name", clusterName + "-lost"), SMALL_HEAP)) {
            JsonNode[] c = new JsonNode[1];
            lost.await("join failure reported", Duration.ofSeconds(120), () -> {
                c[0] = lost.get("/cluster");
                return !c[0].path("state").asText().equals("starting");
            });
            assertThat(c[0].path("state").asText()).as(c[0].toString()).isEqualTo("failed");
            assertThat(c[0].path("error").asText()).contains("could not join cluster '" + clusterName + "-lost'")
                    .contains("127.0.0.1:5799");
            Distribution.Result r = dist.run(tmp, "nodes", "--data", tmp.resolve("lost").toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.out()).contains("failed to join");
            // The node itself keeps running and answering.
            assertThat(lost.get("/node").path("pid").asLong()).isPositive();
        }
    }
}
