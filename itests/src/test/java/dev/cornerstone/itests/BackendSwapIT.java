package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live backend swap on a running node, with the real OpenCL backend on PoCL: a job training
 * on opencl moves to cpu when the opencl jar is deleted from deploy/, and a job on cpu moves
 * to opencl on request once the jar is back. Each finishes with every step logged once and
 * its final loss within tolerance of the same job run on cpu alone.
 */
class BackendSwapIT {

    static final String JAR = "cornerstone-backend-opencl-0.1.0-SNAPSHOT.jar";
    static final int STEPS = 400;
    /** Same spec, seed and data; opencl's kernels differ from cpu's in rounding only. */
    static final double LOSS_TOLERANCE = 2e-3;

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Path data;
    static Path jarCopy;
    static double reference;

    @BeforeAll
    static void startNode() throws Exception {
        dist = Distribution.copyInto(tmp);
        data = tmp.resolve("data");
        jarCopy = tmp.resolve(JAR);
        Files.copy(dist.deploy().resolve(JAR), jarCopy);
        node = NodeProcess.start(dist, data);
        awaitBackend("opencl", true);
        Distribution.Result r = JobsIT.jobs(data, dist, submit("reference", "cpu", true));
        assertThat(r.exit()).as(r.toString()).isZero();
        reference = lastLoss(JobsIT.status(data, dist, "reference"));
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /**
     * A model big enough that a step takes tens of milliseconds on PoCL, so the job is still
     * running when File Install (1 s poll) has removed the bundle.
     */
    static final String[] MODEL = {"--set", "model.n_layer=2", "--set", "model.n_embd=64", "--set", "model.n_head=2",
        "--set", "model.block_size=32", "--set", "train.batch_size=16", "--set", "train.eval_every=0",
        "--set", "train.log_every=1", "--set", "train.checkpoint_every=0"};

    static String[] submit(String id, String backend, boolean await) {
        String[] base = {"submit", "--id", id, "--set", "train.steps=" + STEPS, "--set", "backend.name=" + backend};
        String[] a = new String[base.length + MODEL.length + (await ? 1 : 0)];
        System.arraycopy(base, 0, a, 0, base.length);
        System.arraycopy(MODEL, 0, a, base.length, MODEL.length);
        if (await) {
            a[a.length - 1] = "--wait";
        }
        return a;
    }

    static double lastLoss(JsonNode status) {
        JsonNode points = status.path("points");
        return points.get(points.size() - 1).path("train_loss").asDouble();
    }

    static boolean hasBackend(String name) throws Exception {
        for (JsonNode s : node.get("/services").path("services")) {
            if (name.equals(s.path("backend.name").asText())) {
                return true;
            }
        }
        return false;
    }

    static void awaitBackend(String name, boolean present) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (hasBackend(name) != present) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("backend " + name + (present ? " never registered" : " never left") + "\n"
                        + node.log());
            }
            Thread.sleep(100);
        }
    }

    static JsonNode awaitStep(String id, int step) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        JsonNode st;
        while ((st = JobsIT.status(data, dist, id)).path("step").asInt() < step) {
            assertThat(st.path("state").asText()).isEqualTo("running");
            assertThat(System.nanoTime()).as("job " + id + " reaches step " + step).isLessThan(deadline);
            Thread.sleep(100);
        }
        return st;
    }

    static JsonNode awaitEnd(String id) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        JsonNode st;
        while ((st = JobsIT.status(data, dist, id)).path("state").asText().matches("running|stopping")) {
            assertThat(System.nanoTime()).as("job " + id + " ends").isLessThan(deadline);
            Thread.sleep(200);
        }
        return st;
    }

    static void assertContinuous(JsonNode st) {
        JsonNode points = st.path("points");
        assertThat(points).hasSize(STEPS);
        for (int i = 0; i < points.size(); i++) {
            assertThat(points.get(i).path("step").asInt()).as("step %d logged once, in order", i + 1)
                    .isEqualTo(i + 1);
        }
    }

    @Test
    void deletingTheOpenClJarMovesTheJobToCpuAndDeployingItBackLetsAJobMoveThere() throws Exception {
        // 1. on opencl; its jar is deleted mid-run
        assertThat(JobsIT.jobs(data, dist, submit("out", "opencl", false)).exit()).isZero();
        JsonNode before = awaitStep("out", 5);
        assertThat(before.path("backend").asText()).isEqualTo("opencl");
        Files.delete(dist.deploy().resolve(JAR));
        JsonNode out = awaitEnd("out");
        assertThat(out.path("state").asText()).as(out.toString()).isEqualTo("completed");
        assertThat(out.path("moves")).as("the job moved (it must still be running when the jar goes)").hasSize(1);
        assertThat(out.path("backend").asText()).isEqualTo("cpu");
        JsonNode move = out.path("moves").get(0);
        assertThat(move.path("from").asText()).isEqualTo("opencl");
        assertThat(move.path("to").asText()).isEqualTo("cpu");
        assertContinuous(out);
        assertThat(lastLoss(out)).as("final loss against the cpu-only run").isCloseTo(reference,
                org.assertj.core.api.Assertions.within(LOSS_TOLERANCE));
        awaitBackend("opencl", false);
        System.out.printf("swap out of opencl (jar deleted): paused %.0f ms after step %d%n",
                move.path("pause_s").asDouble() * 1000, move.path("after_step").asInt());

        // 2. the jar comes back; a job on cpu is asked to move to opencl
        Files.copy(jarCopy, dist.deploy().resolve(JAR), StandardCopyOption.REPLACE_EXISTING);
        awaitBackend("opencl", true);
        assertThat(JobsIT.jobs(data, dist, submit("in", "cpu", false)).exit()).isZero();
        awaitStep("in", 5);
        Distribution.Result swap = JobsIT.jobs(data, dist, "backend", "in", "opencl");
        assertThat(swap.exit()).as(swap.toString()).isZero();
        JsonNode in = awaitEnd("in");
        assertThat(in.path("state").asText()).as(in.toString()).isEqualTo("completed");
        assertThat(in.path("backend").asText()).isEqualTo("opencl");
        assertContinuous(in);
        assertThat(lastLoss(in)).isCloseTo(reference, org.assertj.core.api.Assertions.within(LOSS_TOLERANCE));
        JsonNode back = in.path("moves").get(0);
        System.out.printf("swap into opencl (on request): paused %.0f ms after step %d%n",
                back.path("pause_s").asDouble() * 1000, back.path("after_step").asInt());
    }
}
