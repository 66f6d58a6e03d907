package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real network split of a 3-node cluster running a {@code ddp} job: each node process runs
 * in a network namespace of its own, its {@code eth0} a veth pair whose other end is a port of
 * a bridge in a fourth namespace (the switch), all created by this test and deleted after it;
 * the host's own interfaces are never touched. Cutting the oldest node's switch port (it is
 * the coordinator and rank 0, the run folder's writer) splits the cluster 1 | 2:
 *
 * <ul>
 *   <li>the majority re-forms the job (generation 2, without the cut node) and keeps training
 *       and checkpointing;</li>
 *   <li>the cut node's view of the job is {@code recovering} at generation 1, its step frozen;
 *       it writes no metrics line, checkpoint or step report after the split (checked in the
 *       shared run folder while split, and in metrics.jsonl and the job's points after healing);</li>
 *   <li>after the port is up again the halves merge, and the job completes with every step
 *       exactly once in metrics.jsonl and in its points.</li>
 * </ul>
 *
 * Needs root and iproute2 ({@code ip netns}) and curl (the node APIs listen on each
 * namespace's own loopback, so the test talks to them with {@code ip netns exec NS curl});
 * without them it is skipped, saying why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterSplitIT {

    static final int STEPS = 400;
    static final int CHECKPOINT_EVERY = 5;
    static final String JOB = "split";

    @TempDir
    static Path tmp;

    final String tag = UUID.randomUUID().toString().replace("-", "").substring(0, 6);
    final String clusterName = "split-" + tag;
    /** Namespaces: the switch, then one per node. */
    final String switchNs = "cs" + tag + "sw";
    final List<String> nodeNs = new ArrayList<>();
    final List<String> created = new ArrayList<>();
    final List<NodeProcess> nodes = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    final String subnet = "10.213." + (int) (Math.random() * 250) + ".";
    Distribution dist;
    Path runs;
    Thread cleanupHook;

    /** The address of node i on the switch. */
    String address(int i) {
        return subnet + (i + 1);
    }

    /** The switch port (bridge member) of node i, in the switch namespace. */
    String port(int i) {
        return "cs" + tag + "p" + i;
    }

    List<String> in(int i) {
        return List.of("ip", "netns", "exec", nodeNs.get(i));
    }

    @BeforeAll
    void buildTheNetworkAndStartThreeNodes() throws Exception {
        String missing = missingCapability();
        if (missing != null) {
            System.out.println("ClusterSplitIT skipped: " + missing);
            Assumptions.abort(missing);
        }
        cleanupHook = new Thread(this::deleteNamespaces, "cluster-split-it-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook); // also when the test JVM is stopped mid-run
        sh("ip", "netns", "add", switchNs);
        created.add(switchNs);
        sh("ip", "-n", switchNs, "link", "add", "br0", "type", "bridge");
        sh("ip", "-n", switchNs, "link", "set", "br0", "up");
        for (int i = 0; i < 3; i++) {
            String ns = "cs" + tag + "n" + i;
            sh("ip", "netns", "add", ns);
            created.add(ns);
            nodeNs.add(ns);
            sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port(i), "netns", switchNs);
            sh("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
            sh("ip", "-n", ns, "link", "set", "lo", "up");
            sh("ip", "-n", ns, "link", "set", "eth0", "up");
            sh("ip", "-n", switchNs, "link", "set", port(i), "master", "br0");
            sh("ip", "-n", switchNs, "link", "set", port(i), "up");
        }

        dist = Distribution.copyInto(tmp);
        Files.writeString(dist.deploy().resolve("dev.cornerstone.backend.cpu.cfg"), "threads=1\n");
        // every node binds Hazelcast (and the event bus) to its switch address; a member silent
        // for 5 s is removed, and the sides of a healed split look for each other every 5 s
        Path conf = dist.root.resolve("conf/cornerstone.properties");
        Files.writeString(conf, Files.readString(conf) + "\ncluster.interfaces=" + subnet + "*\n"
                + "cluster.heartbeat.timeout.seconds=5\ncluster.merge.delay.seconds=5\n");
        runs = tmp.resolve("runs");
        Map<String, String> env = Map.of("JAVA_OPTS", "-Xmx256m");
        // every node joins through node 0's address; node 0 starts first, so it is the oldest
        List<String> join = List.of("--join", address(0) + ":5701", "--cluster-name", clusterName);
        nodes.add(NodeProcess.start(dist, tmp.resolve("node-0"), join, env, in(0)));
        ids.add(nodes.get(0).awaitJoined().path("nodeId").asText());
        List<CompletableFuture<NodeProcess>> others = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            int n = i;
            others.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return NodeProcess.start(dist, tmp.resolve("node-" + n), join, env, in(n));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<NodeProcess> f : others) {
            nodes.add(f.get(3, TimeUnit.MINUTES));
        }
        for (int i = 1; i <= 2; i++) {
            ids.add(nodes.get(i).awaitJoined().path("nodeId").asText());
        }
        for (NodeProcess n : nodes) {
            n.await("3 members", Duration.ofSeconds(60), () -> n.get("/cluster").path("members").size() == 3);
        }
    }

    /** Why this test cannot run here, or null when it can. */
    static String missingCapability() {
        try {
            Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            id.waitFor(10, TimeUnit.SECONDS);
            if (!uid.equals("0")) {
                return "needs root to create network namespaces (uid " + uid + ")";
            }
            for (String tool : List.of("ip", "curl")) {
                Process w = new ProcessBuilder("sh", "-c", "command -v " + tool).start();
                if (w.waitFor() != 0) {
                    return "needs '" + tool + "' (iproute2, curl) on the PATH";
                }
            }
            String probe = "csprobe" + ProcessHandle.current().pid();
            Process add = new ProcessBuilder("ip", "netns", "add", probe).redirectErrorStream(true).start();
            String out = new String(add.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (add.waitFor() != 0) {
                return "'ip netns add' fails here: " + out;
            }
            new ProcessBuilder("ip", "netns", "del", probe).start().waitFor();
            return null;
        } catch (IOException | InterruptedException e) {
            return "cannot probe for network namespaces: " + e;
        }
    }

    /** Runs a command to its end; fails naming it and its output unless it exits 0. */
    static String sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 30 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    @AfterAll
    void stopNodesAndDeleteTheNetwork() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.close();
        }
        deleteNamespaces();
        if (cleanupHook != null) {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        }
    }

    /** Deletes the namespaces this test created (their veths go with them), kills what still runs in them. */
    synchronized void deleteNamespaces() {
        for (NodeProcess n : nodes) {
            if (n.process.isAlive()) {
                n.process.destroyForcibly();
            }
        }
        for (String ns : created) {
            try {
                sh("ip", "netns", "del", ns);
            } catch (Exception e) {
                System.out.println("ClusterSplitIT: could not delete network namespace " + ns + ": " + e.getMessage());
            }
        }
        created.clear();
    }


    /** {@code cornerstone ARGS} beside node i (in its namespace), to its end. */
    Distribution.Result cli(int i, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(in(i));
        cmd.add(dist.bin().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = dist.command(List.of()).command(cmd).directory(tmp.toFile());
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("cornerstone " + String.join(" ", args) + " did not finish in 90 s");
        }
        return new Distribution.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** The job as node i sees it, or null while it has none. */
    JsonNode job(int i) throws Exception {
        try {
            return nodes.get(i).get("/jobs/" + JOB);
        } catch (IOException e) {
            if (e.getMessage().contains("-> 404")) {
                return null;
            }
            throw e;
        }
    }

    static List<JsonNode> metrics(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path f = run.resolve("metrics.jsonl");
        if (!Files.exists(f)) {
            return out;
        }
        for (String line : Files.readAllLines(f)) {
            if (!line.isBlank()) {
                try {
                    out.add(NodeProcess.JSON.readTree(line));
                } catch (IOException e) {
                    // a line being written
                }
            }
        }
        return out;
    }

    static TreeSet<Integer> checkpoints(Path run) throws IOException {
        TreeSet<Integer> steps = new TreeSet<>();
        Path dir = run.resolve("checkpoints");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+"))
                        .forEach(n -> steps.add(Integer.parseInt(n.substring(5))));
            }
        }
        return steps;
    }

    @Test
    void underASplitOnlyTheMajorityAdvancesTheJobAndAfterHealingItCompletesWithEveryStepOnce() throws Exception {
        Path spec = tmp.resolve("job.yaml");
        Files.writeString(spec, "model: {name: gpt, n_layer: 1, n_head: 2, n_embd: 32, block_size: 32, dropout: 0.0}\n"
                + "optimizer: {name: adamw, lr: 1.0e-3}\n"
                + "data: {name: text, path: " + dist.root.resolve("data/moby-dick.txt") + ", tokenizer: char}\n"
                + "train: {batch_size: 6, steps: " + STEPS + ", eval_every: 0, log_every: 1, checkpoint_every: "
                + CHECKPOINT_EVERY + ", seed: 7, grad_clip: 1.0}\n"
                + "backend: {name: cpu}\n"
                + "cluster: {nodes: 3, strategy: ddp, checkpoint_dir: " + runs + "}\n");
        Distribution.Result submit = cli(1, "train", spec.toString(), "--cluster", nodes.get(1).api.getHost() + ":"
                + nodes.get(1).api.getPort(), "--id", JOB);
        assertThat(submit.exit()).as(submit.toString()).isZero();
        Path run = runs.resolve(JOB);

        NodeProcess majority = nodes.get(1);
        majority.await("a checkpoint and a few steps", Duration.ofMinutes(3), () -> {
            JsonNode j = job(1);
            return j != null && j.path("checkpoint_step").asInt() >= CHECKPOINT_EVERY
                    && j.path("step").asInt() >= CHECKPOINT_EVERY + 2;
        });
        JsonNode before = job(1);
        assertThat(before.path("world").get(0).asText()).as("rank 0 on node 0, the oldest member").isEqualTo(ids.get(0));

        // ---- the split: node 0 (coordinator, rank 0, writer of the run folder) | nodes 1 and 2
        sh("ip", "-n", switchNs, "link", "set", port(0), "down");
        long splitAt = System.currentTimeMillis();
        int lastLineAtSplit = metrics(run).stream().mapToInt(m -> m.path("step").asInt()).max().orElse(0);
        System.out.printf("split at step %d (checkpoint %d)%n", lastLineAtSplit, before.path("checkpoint_step").asInt());
        // at most the step whose all-reduce was already on the wire can still complete on the old ring
        int lastOldStep = lastLineAtSplit + 1;
        TreeSet<Integer> checkpointsAtSplit = checkpoints(run);

        // the minority: its view of the job is recovering at generation 1, waiting for a quorum
        NodeProcess minority = nodes.get(0);
        JsonNode[] seen = new JsonNode[1];
        minority.await("the cut node sees the job recovering", Duration.ofSeconds(90), () -> {
            seen[0] = job(0);
            checkNothingOfGenerationOneAfter(run, lastOldStep, checkpointsAtSplit, job(1));
            return seen[0] != null && seen[0].path("state").asText().equals("recovering");
        });
        long recoveringAt = System.currentTimeMillis();
        assertThat(seen[0].path("generation").asInt()).isEqualTo(1);
        assertThat(seen[0].path("note").asText()).contains("waiting for a quorum", "1 of the 3 nodes");
        assertThat(minority.get("/cluster").path("members").size()).as("node 0 alone on its side").isEqualTo(1);
        int frozenStep = seen[0].path("step").asInt();
        assertThat(frozenStep).isLessThanOrEqualTo(lastOldStep);

        // the majority: generation 2 on nodes 1 and 2, training on and checkpointing
        JsonNode[] maj = new JsonNode[1];
        majority.await("generation 2 trains past a checkpoint of its own", Duration.ofMinutes(2), () -> {
            maj[0] = job(1);
            checkNothingOfGenerationOneAfter(run, lastOldStep, checkpointsAtSplit, maj[0]);
            JsonNode gens = maj[0].path("generations");
            return maj[0].path("generation").asInt() == 2 && gens.size() == 2
                    && maj[0].path("checkpoint_step").asInt() > gens.get(1).path("from_step").asInt()
                    && maj[0].path("step").asInt() >= maj[0].path("checkpoint_step").asInt() + 2;
        });
        JsonNode gen2 = maj[0].path("generations").get(1);
        int from2 = gen2.path("from_step").asInt();
        assertThat(gen2.path("world").toString()).doesNotContain(ids.get(0)).contains(ids.get(1), ids.get(2));
        assertThat(gen2.path("reason").asText()).contains(ids.get(0), "left the cluster");
        assertThat(maj[0].path("world").get(0).asText()).as("rank 0 on the majority side").isNotEqualTo(ids.get(0));
        System.out.printf("cut node recovering %.1f s after the split; generation 2 on 2 nodes from step %d, %.1f s"
                + " after the split%n", (recoveringAt - splitAt) / 1000.0, from2, (gen2.path("at_ms").asLong() - splitAt)
                / 1000.0);

        // while split: the cut node's view has not moved, and the run folder holds only the
        // majority's lines and checkpoints after generation 2's start
        JsonNode still = job(0);
        assertThat(still.path("state").asText()).isEqualTo("recovering");
        assertThat(still.path("generation").asInt()).isEqualTo(1);
        assertThat(still.path("step").asInt()).as("the cut node's view does not advance").isEqualTo(frozenStep);
        List<JsonNode> split = metrics(run);
        for (JsonNode m : split) {
            if (m.path("step").asInt() > from2) {
                assertThat(m.path("generation").asInt()).as("line of step %d", m.path("step").asInt()).isEqualTo(2);
                assertThat(m.path("world").asInt()).isEqualTo(2);
            }
        }
        assertThat(minority.log()).contains("Cluster job " + JOB + ": rank 0 of generation 1");
        int stepAtHeal = maj[0].path("step").asInt();
        assertThat(stepAtHeal).as("the job must still run when the split heals (raise STEPS if it got here)")
                .isLessThan(STEPS - 20);

        // ---- heal: the cut node's port up again; the halves merge
        sh("ip", "-n", switchNs, "link", "set", port(0), "up");
        long healAt = System.currentTimeMillis();
        for (NodeProcess n : nodes) {
            n.await("3 members after healing", Duration.ofSeconds(90), () -> n.get("/cluster").path("members")
                    .size() == 3);
        }
        System.out.printf("merged %.1f s after healing, at step %d%n", (System.currentTimeMillis() - healAt) / 1000.0,
                job(1).path("step").asInt());
        JsonNode[] end = new JsonNode[1];
        majority.await("the job completes", Duration.ofMinutes(4), () -> {
            end[0] = job(1);
            if (end[0].path("state").asText().equals("failed")) {
                throw new AssertionError("the job failed: " + end[0]);
            }
            return end[0].path("state").asText().equals("completed");
        });

        // the map after healing: one point per step, those after generation 2's start not of generation 1
        Distribution.Result st = cli(0, "jobs", "status", JOB, "--json", "--data", nodes.get(0).dataDir.toString());
        assertThat(st.exit()).as(st.toString()).isZero();
        JsonNode j = NodeProcess.JSON.readTree(st.out());
        assertThat(j.path("state").asText()).isEqualTo("completed");
        assertThat(j.path("step").asInt()).isEqualTo(STEPS);
        assertThat(j.path("generation").asInt()).isGreaterThanOrEqualTo(2);
        JsonNode gens = j.path("generations");
        assertThat(gens.get(1).path("generation").asInt()).isEqualTo(2);
        assertThat(gens.get(1).path("from_step").asInt()).as("generation 2 as the majority started it").isEqualTo(from2);
        for (int g = 1; g < gens.size(); g++) {
            assertThat(gens.get(g).path("at_ms").asLong()).as("no generation started by the cut side")
                    .isGreaterThanOrEqualTo(gens.get(1).path("at_ms").asLong());
        }
        JsonNode points = j.path("points");
        assertThat(points.size()).isEqualTo(STEPS);
        for (int i = 0; i < STEPS; i++) {
            JsonNode p = points.get(i);
            assertThat(p.path("step").asInt()).as("point %d", i).isEqualTo(i + 1);
            if (i + 1 > from2) {
                assertThat(p.path("generation").asInt()).as("point of step %d", i + 1).isGreaterThanOrEqualTo(2);
            }
        }

        // the run folder: every step exactly once, in order; generation 1 only up to generation 2's start
        List<JsonNode> m = metrics(run);
        assertThat(m).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(m.get(i).path("step").asInt()).as("steps continuous, none lost or doubled").isEqualTo(i + 1);
            if (i + 1 > from2) {
                assertThat(m.get(i).path("generation").asInt()).as("line of step %d", i + 1).isGreaterThanOrEqualTo(2);
            }
            assertThat(m.get(i).path("train_loss").asDouble()).isFinite();
        }
        assertThat(checkpoints(run).last()).isEqualTo(STEPS);
        System.out.printf("split IT: split at step %d, generation 2 from step %d, healed at step %d, %d generation(s);"
                + " completed with %d steps, each once%n", lastLineAtSplit, from2, stepAtHeal, gens.size(), m.size());
    }

    /**
     * Nothing in the run folder comes from generation 1 past the step the old ring could still
     * finish: no metrics line and no checkpoint (checkpoints past it can only be generation 2's,
     * which resumes from an earlier step).
     */
    static void checkNothingOfGenerationOneAfter(Path run, int lastOldStep, TreeSet<Integer> checkpointsAtSplit,
                                                 JsonNode majorityView) throws IOException {
        if (majorityView != null && majorityView.path("generation").asInt() == 1) {
            // before generation 2 starts, only generation 1 can write: nothing past the old ring's last step
            TreeSet<Integer> now = checkpoints(run);
            now.removeAll(checkpointsAtSplit);
            assertThat(now).as("checkpoints written after the split, before generation 2")
                    .allMatch(c -> c <= lastOldStep);
        }
        for (JsonNode m : metrics(run)) {
            if (m.path("generation").asInt() == 1) {
                assertThat(m.path("step").asInt()).as("a generation-1 metrics line after the split").isLessThanOrEqualTo(
                        lastOldStep);
            }
        }
    }
}
