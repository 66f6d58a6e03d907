package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
 * Cluster jobs through the real command line, on three node processes of one distribution
 * on loopback: a data-parallel job across the three matches one process on the whole batch,
 * its 3-rank checkpoint resumes in one process, bad cluster sections are refused naming the
 * key, a ZeRO-1 job matches it too with a third of the optimizer state per rank, a stop through
 * any node stops every rank after the same step, and when the coordinator's node (also rank 0's) is killed with SIGKILL mid-run the job
 * completes on the other two: generation 2, steps continuous in metrics.jsonl, final loss
 * that of the uninterrupted run; a node that joins later enters at the next checkpoint. The failure of a collective whose peer is killed is in
 * {@link ClusterIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterJobsIT {

    /**
     * Largest difference allowed between the loss of one step of a data-parallel run and of
     * one process on the whole batch: the ranks sum the gradients in another order (their
     * shares, then the ring), which moves float32 losses by about 2e-7 in the first steps.
     * Adam amplifies such differences once the loss flattens (measured with lr 3e-3 and 100
     * steps: 2e-7 up to step 30, then growing to 0.1 by step 100), so the job here is short and
     * its learning rate low enough to stay well inside this.
     */
    static final double LOSS_TOLERANCE = 1e-3;
    static final int STEPS = 40;

    @TempDir
    static Path tmp;

    final String clusterName = "jobs-" + UUID.randomUUID().toString().substring(0, 8);
    Distribution dist;
    final List<NodeProcess> nodes = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    Path spec;
    Path referenceSpec;
    /** Loss of each step of one process on the whole batch, from 1. */
    double[] reference;

    @BeforeAll
    void startThreeNodesAndTrainTheReference() throws Exception {
        dist = Distribution.copyInto(tmp);
        // three nodes and the reference share two cores with other work: one thread each
        Files.writeString(dist.deploy().resolve("dev.cornerstone.backend.cpu.cfg"), "threads=1\n");
        String common = "model: {name: gpt, n_layer: 1, n_head: 2, n_embd: 32, block_size: 32, dropout: 0.0}\n"
                + "optimizer: {name: adamw, lr: 1.0e-3}\n"
                + "data: {name: text, path: " + dist.root.resolve("data/moby-dick.txt") + ", tokenizer: char}\n"
                + "train: {batch_size: 6, steps: " + STEPS + ", eval_every: 20, eval_batches: 2, log_every: 1, "
                + "checkpoint_every: 10, seed: 7, grad_clip: 1.0}\n"
                + "backend: {name: cpu}\n";
        referenceSpec = tmp.resolve("reference.yaml");
        Files.writeString(referenceSpec, common);
        spec = tmp.resolve("cluster.yaml");
        Files.writeString(spec, common + "cluster: {nodes: 3, strategy: ddp}\n");

        CompletableFuture<Distribution.Result> ref = CompletableFuture.supplyAsync(() -> run(Duration.ofMinutes(4),
                "train", referenceSpec.toString(), "--out", tmp.resolve("reference").toString()));
        Map<String, String> env = Map.of("JAVA_OPTS", "-Xmx256m");
        NodeProcess first = NodeProcess.start(dist, tmp.resolve("node-0"), List.of("--cluster", "--cluster-name",
                clusterName), env);
        nodes.add(first);
        String seed = first.awaitJoined().path("local").path("address").asText();
        List<CompletableFuture<NodeProcess>> others = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            Path data = tmp.resolve("node-" + i);
            others.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return NodeProcess.start(dist, data, List.of("--join", seed, "--cluster-name", clusterName), env);
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
        Distribution.Result r = ref.get(5, TimeUnit.MINUTES);
        assertThat(r.exit()).as(r.toString()).isZero();
        reference = losses(tmp.resolve("reference/metrics.jsonl"));
        assertThat(reference).hasSize(STEPS);
    }

    @AfterAll
    void stopNodes() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.close();
        }
    }


    /** {@code cornerstone ARGS} from tmp, to its end (at most {@code timeout}). */
    Distribution.Result run(Duration timeout, String... args) {
        try {
            ProcessBuilder pb = dist.command(List.of(args)).directory(tmp.toFile());
            Path out = Files.createTempFile(tmp, "out", ".txt");
            Path err = Files.createTempFile(tmp, "err", ".txt");
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("cornerstone " + String.join(" ", args) + " did not finish in " + timeout
                        + "\n" + Files.readString(out) + Files.readString(err));
            }
            return new Distribution.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String address(NodeProcess n) {
        return n.api.getHost() + ":" + n.api.getPort();
    }

    /** The metrics lines of a run folder, in order. */
    static List<JsonNode> metrics(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(NodeProcess.JSON.readTree(line));
            }
        }
        return out;
    }

    static double[] losses(Path file) throws IOException {
        return metrics(file).stream().mapToDouble(m -> m.path("train_loss").asDouble()).toArray();
    }

    /** Largest |a[i] - reference[from + i]|. */
    double maxDiff(double[] a, int from) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - reference[from + i]));
        }
        return max;
    }

    Distribution.Result jobs(NodeProcess via, String... args) {
        List<String> all = new ArrayList<>(List.of("jobs"));
        all.addAll(List.of(args));
        all.addAll(List.of("--data", via.dataDir.toString()));
        return run(Duration.ofSeconds(60), all.toArray(String[]::new));
    }

    @Test
    @Order(1)
    void threeNodesListEachOther() throws Exception {
        for (NodeProcess n : nodes) {
            n.await("3 members", Duration.ofSeconds(60), () -> n.get("/cluster").path("members").size() == 3);
        }
        Distribution.Result list = run(Duration.ofSeconds(60), "nodes", "--data", nodes.get(2).dataDir.toString());
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains("Cluster '" + clusterName + "': 3 members");
        for (String id : ids) {
            assertThat(list.out()).contains(id);
        }
    }

    @Test
    @Order(2)
    void aDataParallelJobOnThreeNodesMatchesOneProcessOnTheWholeBatch() throws Exception {
        Distribution.Result r = run(Duration.ofMinutes(5), "train", spec.toString(), "--cluster",
                address(nodes.get(1)), "--id", "ddp3", "--wait");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("ddp3").contains("step " + STEPS + "/" + STEPS, "Job ddp3 completed");
        // any node answers for the job, with its world and generation
        Distribution.Result st = jobs(nodes.get(2), "status", "ddp3", "--json");
        assertThat(st.exit()).as(st.toString()).isZero();
        JsonNode j = NodeProcess.JSON.readTree(st.out());
        assertThat(j.path("state").asText()).isEqualTo("completed");
        assertThat(j.path("step").asInt()).isEqualTo(STEPS);
        assertThat(j.path("generation").asInt()).isEqualTo(1);
        assertThat(j.path("world").size()).isEqualTo(3);
        assertThat(j.path("val_loss").isNumber()).isTrue();
        // --wait printed every step once, in order, polling with ?since= (only the new points)
        assertThat(r.out().lines().filter(x -> x.startsWith("step ")).map(x -> x.split(" ")[1]))
                .as(r.out()).containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, STEPS)
                        .mapToObj(i -> i + "/" + STEPS).toList());
        assertThat(j.path("points").size()).isEqualTo(STEPS);
        assertThat(nodes.get(0).get("/jobs/ddp3?since=" + (STEPS - 2)).path("points"))
                .extracting(p -> p.path("step").asInt()).containsExactly(STEPS - 1, STEPS);
        Path run = Path.of(j.path("run").asText());
        assertThat(run).isEqualTo(nodes.get(1).dataDir.resolve("runs/ddp3").toAbsolutePath());
        double[] l = losses(run.resolve("metrics.jsonl"));
        assertThat(l).hasSize(STEPS);
        double diff = maxDiff(l, 0);
        System.out.printf("ddp on 3 nodes vs 1 process: max |loss difference| over %d steps = %.2e%n", STEPS, diff);
        assertThat(diff).isLessThan(LOSS_TOLERANCE);
        Distribution.Result list = jobs(nodes.get(0), "list", "--json");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains("\"ddp3\"", "\"generation\"", "\"world\"");
        // only rank 0 wrote checkpoints, and one per checkpoint_every
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).count())
                    .isEqualTo(STEPS / 10);
        }
    }

    @Test
    @Order(3)
    void aCheckpointOfThreeRanksResumesInOneProcess() throws Exception {
        Path run = nodes.get(1).dataDir.resolve("runs/ddp3");
        Path copy = tmp.resolve("resumed");
        copyTree(run, copy);
        // keep the checkpoint of step 20 only: the rest is trained again, by one process
        try (Stream<Path> s = Files.list(copy.resolve("checkpoints"))) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals("step-000020")) {
                    deleteTree(p);
                }
            }
        }
        Files.delete(copy.resolve("summary.json"));
        Distribution.Result r = run(Duration.ofMinutes(4), "train", "--resume", copy.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        double[] l = losses(copy.resolve("metrics.jsonl"));
        assertThat(l).hasSize(STEPS);
        double[] after = java.util.Arrays.copyOfRange(l, 20, STEPS);
        double diff = maxDiff(after, 20);
        System.out.printf("3-rank checkpoint of step 20 resumed in 1 process: max |loss difference| = %.2e%n", diff);
        assertThat(diff).isLessThan(LOSS_TOLERANCE);
    }

    @Test
    @Order(4)
    void badClusterSectionsAreRefusedNamingTheKey() throws Exception {
        String api = address(nodes.get(0));
        Distribution.Result tooMany = run(Duration.ofSeconds(60), "train", spec.toString(), "--cluster", api,
                "--set", "cluster.nodes=5");
        assertThat(tooMany.exit()).as(tooMany.toString()).isNotZero();
        assertThat(tooMany.err()).contains("cluster.nodes: 5 is more than the 3 members");
        Distribution.Result strategy = run(Duration.ofSeconds(60), "train", spec.toString(), "--cluster", api,
                "--set", "cluster.strategy=fsdp");
        assertThat(strategy.exit()).as(strategy.toString()).isNotZero();
        assertThat(strategy.err()).contains("cluster.strategy: 'fsdp' is not a strategy; allowed: ddp, zero1");
        Distribution.Result batch = run(Duration.ofSeconds(60), "train", spec.toString(), "--cluster", api,
                "--set", "train.batch_size=4");
        assertThat(batch.exit()).as(batch.toString()).isNotZero();
        assertThat(batch.err()).contains("train.batch_size 4 must be a multiple of cluster.nodes 3");
        Distribution.Result local = run(Duration.ofSeconds(60), "train", spec.toString());
        assertThat(local.exit()).as(local.toString()).isNotZero();
        assertThat(local.err()).contains("cluster: the spec has a cluster section", "--cluster HOST:PORT");
    }

    @Test
    @Order(5)
    void aZeroOneJobOnThreeNodesMatchesDataParallelWithAThirdOfTheOptimizerState() throws Exception {
        Distribution.Result r = run(Duration.ofMinutes(5), "train", spec.toString(), "--cluster",
                address(nodes.get(0)), "--set", "cluster.strategy=zero1", "--id", "zero", "--wait");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Job zero completed");
        Path run = nodes.get(0).dataDir.resolve("runs/zero");
        List<JsonNode> zero = metrics(run.resolve("metrics.jsonl"));
        double[] l = zero.stream().mapToDouble(x -> x.path("train_loss").asDouble()).toArray();
        assertThat(l).hasSize(STEPS);
        double diff = maxDiff(l, 0);
        List<JsonNode> ddp = metrics(nodes.get(1).dataDir.resolve("runs/ddp3/metrics.jsonl"));
        long zeroState = zero.get(0).path("optimizer_state_bytes").asLong();
        long ddpState = ddp.get(0).path("optimizer_state_bytes").asLong();
        System.out.printf("zero1 on 3 nodes vs 1 process: max |loss difference| over %d steps = %.2e; rank 0 "
                + "optimizer state %d bytes (ddp: %d)%n", STEPS, diff, zeroState, ddpState);
        assertThat(diff).isLessThan(LOSS_TOLERANCE);
        assertThat(zeroState).as("rank 0 holds about a third of the optimizer state").isPositive()
                .isLessThan(ddpState * 2 / 3);
    }

    @Test
    @Order(6)
    void aClusterJobStoppedThroughAnotherNodeStopsEveryRankAfterTheSameStepWithACheckpoint() throws Exception {
        Distribution.Result r = run(Duration.ofSeconds(60), "train", spec.toString(), "--cluster",
                address(nodes.get(1)), "--id", "stopme", "--set", "train.steps=100000", "--set",
                "train.checkpoint_every=0");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().trim()).isEqualTo("stopme");
        NodeProcess other = nodes.get(2);
        other.await("a few steps", Duration.ofMinutes(2), () -> other.get("/jobs/stopme").path("step").asInt() >= 3);
        Distribution.Result stop = jobs(other, "stop", "stopme");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.out()).contains("Job stopme stopped at step", "checkpoint");
        JsonNode j = NodeProcess.JSON.readTree(jobs(nodes.get(0), "status", "stopme", "--json").out());
        assertThat(j.path("state").asText()).isEqualTo("stopped");
        int step = j.path("step").asInt();
        Path run = Path.of(j.path("run").asText());
        assertThat(run.resolve(String.format("checkpoints/step-%06d", step))).isDirectory();
        assertThat(j.path("checkpoint_step").asInt()).isEqualTo(step);
        List<JsonNode> m = metrics(run.resolve("metrics.jsonl"));
        assertThat(m).hasSize(step);
        for (NodeProcess n : nodes) {
            n.await("rank stopped", Duration.ofSeconds(60), () -> n.log().contains("Cluster job stopme: rank "));
            assertThat(n.log()).as("every rank stops after the same step")
                    .containsPattern("Cluster job stopme: rank \\d of generation 1 stopped at step " + step + "\\b");
        }
    }

    @Test
    @Order(7)
    void whenTheCoordinatorsNodeIsKilledTheJobCompletesOnTheOtherTwo() throws Exception {
        NodeProcess victim = nodes.get(0); // the oldest member: the coordinator, and rank 0 of the job
        NodeProcess via = nodes.get(1);
        CompletableFuture<Distribution.Result> job = CompletableFuture.supplyAsync(() -> run(Duration.ofMinutes(5),
                "train", spec.toString(), "--cluster", address(via), "--id", "elastic", "--wait"));
        JsonNode[] st = new JsonNode[1];
        via.await("a checkpoint of the job", Duration.ofMinutes(3), () -> {
            try {
                st[0] = via.get("/jobs/elastic");
            } catch (IOException e) {
                return false; // not submitted yet
            }
            // a few steps past the checkpoint, so that they are lost with the node and trained again
            return st[0].path("checkpoint_step").asInt() >= 10 && st[0].path("step").asInt() >= 13;
        });
        assertThat(st[0].path("world").get(0).asText()).as("rank 0 on the oldest node").isEqualTo(ids.get(0));
        int killedAt = st[0].path("step").asInt();
        assertThat(killedAt).as("killed mid-run").isLessThan(STEPS - 10);
        long killMillis = System.currentTimeMillis();
        victim.kill();
        nodes.remove(victim);
        Distribution.Result r = job.get(6, TimeUnit.MINUTES);
        System.out.println(r.out());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("generation 2 on 2 node(s)", "Job elastic completed");

        JsonNode j = NodeProcess.JSON.readTree(jobs(nodes.get(1), "status", "elastic", "--json").out());
        assertThat(j.path("state").asText()).isEqualTo("completed");
        assertThat(j.path("generation").asInt()).isEqualTo(2);
        assertThat(j.path("world").size()).isEqualTo(2);
        assertThat(j.path("world").toString()).doesNotContain(ids.get(0));
        JsonNode gen2 = j.path("generations").get(1);
        assertThat(gen2.path("reason").asText()).contains(ids.get(0), "left the cluster");
        int resumedFrom = gen2.path("from_step").asInt();
        System.out.printf("generation 2 started %.1f s after the kill%n",
                (gen2.path("at_ms").asLong() - killMillis) / 1000.0);
        assertThat(resumedFrom).isPositive().isLessThanOrEqualTo(killedAt + 1);

        List<JsonNode> m = metrics(Path.of(j.path("run").asText()).resolve("metrics.jsonl"));
        for (int i = 0; i < m.size(); i++) {
            assertThat(m.get(i).path("step").asInt()).as("steps continuous, none lost or doubled").isEqualTo(i + 1);
            int expectGeneration = i + 1 <= resumedFrom ? 1 : 2;
            assertThat(m.get(i).path("generation").asInt()).as("generation of step %d", i + 1)
                    .isEqualTo(expectGeneration);
        }
        assertThat(m).hasSize(STEPS);
        assertThat(m.get(resumedFrom).path("world").asInt()).isEqualTo(2);
        assertThat(killedAt).isGreaterThan(resumedFrom);
        assertThat(m.get(resumedFrom).path("rerun").asBoolean()).as("step %d was trained again, and says so",
                resumedFrom + 1).isTrue();
        assertThat(m.get(resumedFrom - 1).has("rerun")).isFalse();
        double[] l = m.stream().mapToDouble(x -> x.path("train_loss").asDouble()).toArray();
        double diff = maxDiff(l, 0);
        System.out.printf("killed at step %d, resumed from %d on 2 nodes: max |loss difference| = %.2e, final %.4f vs"
                + " %.4f%n", killedAt, resumedFrom, diff, l[STEPS - 1], reference[STEPS - 1]);
        assertThat(Math.abs(l[STEPS - 1] - reference[STEPS - 1])).isLessThan(LOSS_TOLERANCE);
        assertThat(diff).isLessThan(LOSS_TOLERANCE);
    }

    @Test
    @Order(8)
    void aNodeThatJoinsEntersTheJobAtItsNextCheckpoint() throws Exception {
        Map<String, String> env = Map.of("JAVA_OPTS", "-Xmx256m");
        String seed = nodes.get(0).get("/cluster").path("local").path("address").asText();
        NodeProcess third = NodeProcess.start(dist, tmp.resolve("node-3"), List.of("--join", seed, "--cluster-name",
                clusterName), env);
        nodes.add(third);
        String thirdId = third.awaitJoined().path("nodeId").asText();
        NodeProcess via = nodes.get(0);
        via.await("3 members", Duration.ofSeconds(60), () -> via.get("/cluster").path("members").size() == 3);
        Distribution.Result r = run(Duration.ofSeconds(60), "train", spec.toString(), "--cluster", address(via),
                "--id", "grow", "--set", "train.steps=100000", "--set", "train.checkpoint_every=5");
        assertThat(r.exit()).as(r.toString()).isZero();
        via.await("a checkpoint", Duration.ofMinutes(2), () -> via.get("/jobs/grow").path("checkpoint_step").asInt()
                >= 5);
        third.kill();
        nodes.remove(third);
        via.await("generation 2 on two nodes", Duration.ofMinutes(2), () -> {
            JsonNode j = via.get("/jobs/grow");
            return j.path("generation").asInt() == 2 && j.path("world").size() == 2;
        });
        NodeProcess fourth = NodeProcess.start(dist, tmp.resolve("node-4"), List.of("--join", seed,
                "--cluster-name", clusterName), env);
        nodes.add(fourth);
        String fourthId = fourth.awaitJoined().path("nodeId").asText();
        JsonNode[] st = new JsonNode[1];
        via.await("generation 3 on three nodes, a few steps in", Duration.ofMinutes(3), () -> {
            st[0] = via.get("/jobs/grow");
            JsonNode gens = st[0].path("generations");
            return st[0].path("generation").asInt() == 3 && st[0].path("step").asInt()
                    >= gens.get(2).path("from_step").asInt() + 3;
        });
        JsonNode gen3 = st[0].path("generations").get(2);
        assertThat(gen3.path("reason").asText()).contains(fourthId, "joined", "entering at the checkpoint of step");
        assertThat(gen3.path("world").toString()).contains(fourthId).doesNotContain(thirdId);
        assertThat(st[0].path("generations").get(1).path("reason").asText()).contains(thirdId, "left the cluster");
        Distribution.Result stop = jobs(fourth, "stop", "grow");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        JsonNode j = NodeProcess.JSON.readTree(jobs(via, "status", "grow", "--json").out());
        assertThat(j.path("state").asText()).isEqualTo("stopped");
        List<JsonNode> m = metrics(Path.of(j.path("run").asText()).resolve("metrics.jsonl"));
        assertThat(m).hasSize(j.path("step").asInt());
        for (int i = 0; i < m.size(); i++) {
            assertThat(m.get(i).path("step").asInt()).as("steps continuous over three generations").isEqualTo(i + 1);
        }
        int from3 = gen3.path("from_step").asInt();
        assertThat(m.get(from3).path("generation").asInt()).isEqualTo(3);
        assertThat(m.get(from3).path("world").asInt()).isEqualTo(3);
        System.out.printf("grow: generation 2 from step %d on 2 nodes, generation 3 from step %d on 3 nodes, stopped "
                + "at step %d%n", st[0].path("generations").get(1).path("from_step").asInt(), from3, m.size());
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
