package dev.cornerstone.core.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs in the background of a node, through the job service's map requests as the node API
 * sends them: submit, list, status, stop, move, and what happens when the backend a job
 * trains on is unregistered (another takes over between two steps; with none left, the job
 * stops with a checkpoint and says why). The backends are two CPU backends registered under
 * different names; both call themselves cpu, so where a job's tensors live tells which it is on.
 */
class NodeJobsTest {

    @TempDir
    Path tmp;

    private final JobService jobs = new JobService();
    private CpuBackend first;
    private CpuBackend second;

    @BeforeEach
    void register() {
        first = new CpuBackend(1);
        second = new CpuBackend(1);
        jobs.addModel(new GptProvider(), Map.of("model.name", "gpt"));
        jobs.addOptimizer(new AdamWProvider(), Map.of("optimizer.name", "adamw"));
        jobs.addDataset(new TextDatasetProvider(), Map.of("dataset.name", "text"));
    }

    @AfterEach
    void close() {
        jobs.deactivate();
        first.close();
        second.close();
    }

    private Map<String, Object> spec(int steps) {
        Path corpus = Path.of("../../distribution/src/main/dist/data/moby-dick.txt").toAbsolutePath();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 1, "n_head", 2, "n_embd", 32,
                "block_size", 16)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 3e-3)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", corpus.toString(), "tokenizer", "char")));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 8, "steps", steps, "eval_every", 0, "log_every", 1,
                "checkpoint_every", 0, "seed", 7)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
        return s;
    }

    private Map<String, Object> call(Object... kv) {
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            r.put((String) kv[i], kv[i + 1]);
        }
        return jobs.apply(r);
    }

    private String submit(String id, int steps) {
        return (String) call("command", "submit", "spec", spec(steps), "out", tmp.resolve(id).toString(),
                "base", tmp.toString()).get("id");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> awaitEnd(String id) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            Map<String, Object> st = call("command", "status", "id", id);
            if (!"running".equals(st.get("state")) && !"stopping".equals(st.get("state"))) {
                return st;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " did not end");
    }

    @SuppressWarnings("unchecked")
    private static List<Integer> steps(Map<String, Object> status) {
        return ((List<Map<String, Object>>) status.get("points")).stream().map(p -> (Integer) p.get("step")).toList();
    }

    private void awaitStep(String id, int step) throws InterruptedException {
        while (((Number) call("command", "status", "id", id).get("step")).intValue() < step) {
            Thread.sleep(5);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aSubmittedJobRunsInTheBackgroundAndReportsEveryPoint() throws Exception {
        jobs.addBackend(first, Map.of("backend.name", "cpu"));
        String id = submit("job-a", 6);
        assertThat(id).isEqualTo("job-a");
        assertThat((List<Map<String, Object>>) call("command", "list").get("jobs")).extracting(m -> m.get("id"))
                .containsExactly("job-a");
        Map<String, Object> st = awaitEnd(id);
        assertThat(st).containsEntry("state", "completed").containsEntry("step", 6);
        assertThat(steps(st)).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat((Map<String, Object>) st.get("summary")).containsEntry("steps", 6);
        assertThat(tmp.resolve("job-a/summary.json")).exists();
    }

    @Test
    void aJobMovesWhenItsBackendIsUnregisteredAndLosesNoStep() throws Exception {
        jobs.addBackend(first, Map.of("backend.name", "cpu"));
        String id = submit("job-b", 30);
        awaitStep(id, 3);
        // the cpu backend's bundle stops; an opencl backend (here: another CPU backend) is there
        jobs.addBackend(second, Map.of("backend.name", "opencl"));
        jobs.removeBackend(first, Map.of("backend.name", "cpu"));
        Map<String, Object> st = awaitEnd(id);
        // both are CPU backends, so the job's backend is still named cpu: where its tensors live tells
        assertThat(st).containsEntry("state", "completed");
        assertThat(steps(st)).as("no step lost or repeated").isEqualTo(java.util.stream.IntStream.rangeClosed(1, 30)
                .boxed().toList());
        assertThat((List<?>) st.get("moves")).hasSize(1);
        assertThat(first.liveTensors()).as("nothing of the job is left on the old backend").isZero();
    }

    @Test
    void withNoBackendLeftAJobStopsWithACheckpointAndSaysWhy() throws Exception {
        jobs.addBackend(first, Map.of("backend.name", "cpu"));
        String id = submit("job-c", 1000);
        awaitStep(id, 2);
        jobs.removeBackend(first, Map.of("backend.name", "cpu"));
        Map<String, Object> st = awaitEnd(id);
        assertThat(st).containsEntry("state", "stopped");
        assertThat((String) st.get("stop_reason")).contains("backend cpu went away", "no other backend");
        int step = ((Number) st.get("step")).intValue();
        assertThat(tmp.resolve("job-c/checkpoints").resolve(String.format("step-%06d", step))).isDirectory();
        assertThat(first.liveTensors()).isZero();
    }

    @Test
    void stopAndMoveOnRequestAndWatchersSeeEveryEvent() throws Exception {
        jobs.addBackend(first, Map.of("backend.name", "cpu"));
        jobs.addBackend(second, Map.of("backend.name", "other"));
        List<Map<String, Object>> events = new CopyOnWriteArrayList<>();
        Runnable unwatch = (Runnable) call("command", "watch", "listener",
                (java.util.function.Consumer<Map<String, Object>>) events::add).get("close");
        String id = submit("job-d", 1000);
        awaitStep(id, 2);
        Map<String, Object> move = call("command", "move", "id", id, "backend", "other");
        assertThat(move).containsEntry("after_step", ((Number) move.get("after_step")).intValue());
        assertThat(((Number) move.get("pause_s")).doubleValue()).isGreaterThanOrEqualTo(0);
        assertThat(first.liveTensors()).as("the job left the first backend").isZero();
        assertThat(second.liveTensors()).as("and lives on the second").isPositive();
        Map<String, Object> stop = call("command", "stop", "id", id, "wait_ms", 60_000);
        assertThat(stop).containsEntry("state", "stopped");
        unwatch.run();
        assertThat(events).extracting(e -> e.get("event")).contains("start", "step", "move", "end");
        assertThat(Files.exists(tmp.resolve("job-d/summary.json"))).isTrue();
    }

    @Test
    void aBadSpecIsRefusedAndNothingStarts() {
        jobs.addBackend(first, Map.of("backend.name", "cpu"));
        Map<String, Object> bad = spec(5);
        ((Map<String, Object>) bad.get("train")).put("batch_size", -1);
        assertThatThrownBy(() -> call("command", "submit", "spec", bad, "out", tmp.resolve("job-e").toString(),
                "base", tmp.toString())).hasMessageContaining("batch_size");
        assertThat((List<?>) call("command", "list").get("jobs")).isEmpty();
        assertThatThrownBy(() -> call("command", "status", "id", "nope")).hasMessageContaining("no job 'nope'");
        assertThatThrownBy(() -> call("command", "move", "id", "nope", "backend", "cpu"))
                .hasMessageContaining("no job 'nope'");
    }
}
