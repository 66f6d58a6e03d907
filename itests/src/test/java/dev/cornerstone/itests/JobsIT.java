package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs in the background of a running node, through the real CLI: submit (and follow with
 * --wait), list, status, stop with a checkpoint, move between backends, and the errors a user
 * meets (a bad spec, an unknown job, an unknown backend) with the node left running.
 */
class JobsIT {

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Path data;

    /** A small, quick model: a job of a few dozen steps takes seconds. */
    static final String[] SMALL = {"--set", "model.n_layer=1", "--set", "model.n_embd=32", "--set", "model.n_head=2",
        "--set", "model.block_size=16", "--set", "train.batch_size=8", "--set", "train.eval_every=0",
        "--set", "train.log_every=1", "--set", "backend.name=cpu"};

    @BeforeAll
    static void startNode() throws Exception {
        dist = Distribution.copyInto(tmp);
        data = tmp.resolve("data");
        node = NodeProcess.start(dist, data);
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    static Distribution.Result jobs(String... args) throws Exception {
        return jobs(data, dist, args);
    }

    /** {@code cornerstone jobs ARGS --data DATA}: against the node running on that data folder. */
    static Distribution.Result jobs(Path data, Distribution dist, String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "jobs";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--data";
        all[args.length + 2] = data.toString();
        return dist.run(all);
    }

    static String[] submit(String id, int steps, boolean await) {
        String[] base = {"submit", "--id", id, "--set", "train.steps=" + steps};
        String[] a = new String[base.length + SMALL.length + (await ? 1 : 0)];
        System.arraycopy(base, 0, a, 0, base.length);
        System.arraycopy(SMALL, 0, a, base.length, SMALL.length);
        if (await) {
            a[a.length - 1] = "--wait";
        }
        return a;
    }

    static JsonNode status(String id) throws Exception {
        return status(data, dist, id);
    }

    static JsonNode status(Path data, Distribution dist, String id) throws Exception {
        Distribution.Result r = jobs(data, dist, "status", id, "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        return NodeProcess.JSON.readTree(r.out());
    }

    @Test
    void aJobSubmittedWithWaitIsFollowedToTheEnd() throws Exception {
        Distribution.Result r = jobs(submit("follow", 12, true));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("follow").contains("step 12/12", "Job follow completed");
        // followed with ?since=: every step printed once, in order
        List<String> printed = r.out().lines().filter(l -> l.startsWith("step ")).map(l -> l.split(" ")[1]).toList();
        assertThat(printed).as(r.out()).containsExactly("1/12", "2/12", "3/12", "4/12", "5/12", "6/12", "7/12", "8/12",
                "9/12", "10/12", "11/12", "12/12");
        JsonNode st = status("follow");
        assertThat(st.path("state").asText()).isEqualTo("completed");
        assertThat(st.path("points")).hasSize(12);
        JsonNode tail = node.get("/jobs/follow?since=9");
        assertThat(tail.path("points")).extracting(p -> p.path("step").asInt()).containsExactly(10, 11, 12);
        assertThat(tail.path("state").asText()).isEqualTo("completed");
        assertThat(node.get("/jobs/follow?since=12").path("points")).isEmpty();
        var bad = node.request("GET", "/jobs/follow?since=-1", java.net.http.HttpRequest.BodyPublishers.noBody(),
                node.token);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("'since'");
        assertThat(data.resolve("runs/follow/summary.json")).as("a node on its own data folder keeps its runs there")
                .exists();
        Distribution.Result list = jobs("list");
        assertThat(list.out()).contains("follow", "completed", "12/12");
    }

    @Test
    void aStoppedJobSavesACheckpointAndAMoveKeepsTheStepCount() throws Exception {
        Distribution.Result r = jobs(submit("long", 100_000, false));
        assertThat(r.exit()).as(r.toString()).isZero();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (status("long").path("step").asInt() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Distribution.Result move = jobs("backend", "long", "cpu");
        assertThat(move.exit()).as(move.toString()).isZero();
        assertThat(move.out()).contains("moved from cpu to cpu");
        Distribution.Result unknown = jobs("backend", "long", "nope");
        assertThat(unknown.exit()).isNotZero();
        assertThat(unknown.err()).contains("no backend named 'nope'", "available: cpu");
        Distribution.Result stop = jobs("stop", "long");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.out()).contains("stopped", "checkpoint");
        JsonNode st = status("long");
        assertThat(st.path("state").asText()).isEqualTo("stopped");
        int step = st.path("step").asInt();
        assertThat(data.resolve("runs/long/checkpoints").resolve(String.format("step-%06d", step))).isDirectory();
        JsonNode points = st.path("points");
        for (int i = 0; i < points.size(); i++) {
            assertThat(points.get(i).path("step").asInt()).as("steps continuous across the move").isEqualTo(i + 1);
        }
    }

    @Test
    void badRequestsGetClearErrorsAndTheNodeKeepsRunning() throws Exception {
        Distribution.Result bad = jobs("submit", "--id", "bad", "--set", "train.batch_size=0");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("train.batch_size");
        assertThat(Files.exists(data.resolve("runs/bad"))).isFalse();
        Distribution.Result none = jobs("status", "nope");
        assertThat(none.exit()).isNotZero();
        assertThat(none.err()).contains("no job 'nope'");
        Distribution.Result dup = jobs(submit("twice", 2, true));
        assertThat(dup.exit()).as(dup.toString()).isZero();
        Distribution.Result again = jobs(submit("twice", 2, false));
        assertThat(again.exit()).isNotZero();
        assertThat(again.err()).contains("twice");
        assertThat(node.get("/node").path("version").asText()).as("the node still answers").isNotEmpty();
    }
}
