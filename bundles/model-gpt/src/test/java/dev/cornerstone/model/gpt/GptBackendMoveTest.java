package dev.cornerstone.model.gpt;

import static dev.cornerstone.model.gpt.GptTrainingTest.corpus;
import static dev.cornerstone.model.gpt.GptTrainingTest.losses;
import static dev.cornerstone.model.gpt.GptTrainingTest.providers;
import static dev.cornerstone.model.gpt.GptTrainingTest.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run moved to another backend between two steps goes on as if nothing happened: the loss
 * sequence equals an unmoved run's (both backends are CPU backends with the same thread
 * count, so the arithmetic is the same to the bit), the old backend's memory is given back,
 * and summary.json records the move. A run stopped on request saves a checkpoint that
 * resumes into the same sequence.
 */
class GptBackendMoveTest {

    @TempDir
    Path tmp;

    private static final int STEPS = 12;

    private List<Double> uninterrupted() throws Exception {
        Path run = tmp.resolve("plain");
        try (CpuBackend be = new CpuBackend(2);
             TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), STEPS, 0)), run, tmp, providers(be),
                     Map.of())) {
            r.run(p -> { });
        }
        return losses(run);
    }

    @Test
    void aMoveBetweenStepsLosesAndRepeatsNothing() throws Exception {
        List<Double> expected = uninterrupted();
        Path run = tmp.resolve("moved");
        try (CpuBackend first = new CpuBackend(2); CpuBackend second = new CpuBackend(2)) {
            long before = first.liveTensors();
            CompletableFuture<TrainingRun.Move>[] move = new CompletableFuture[1];
            Map<String, Object> summary;
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), STEPS, 0)), run, tmp,
                    providers(first), Map.of())) {
                summary = r.run(p -> {
                    if (p.step().step() == 5) {
                        move[0] = r.requestMove(second);
                    }
                });
                TrainingRun.Move m = move[0].get(10, TimeUnit.SECONDS);
                assertThat(m.step()).isEqualTo(5);
                assertThat(r.backend()).isSameAs(second);
                assertThat(first.liveTensors()).as("the first backend's tensors were freed by the move")
                        .isEqualTo(before);
            }
            assertThat(second.liveTensors()).as("nothing leaked on the second backend").isZero();
            assertThat(summary.get("steps")).isEqualTo(STEPS);
            assertThat((List<?>) summary.get("backend_moves")).hasSize(1);
        }
        assertThat(losses(run)).as("loss sequence of the moved run").isEqualTo(expected);
        Map<?, ?> onDisk = (Map<?, ?>) Json.read(java.nio.file.Files.readString(run.resolve("summary.json")), "s");
        assertThat(((Map<?, ?>) ((List<?>) onDisk.get("backend_moves")).getFirst()).get("after_step")).isEqualTo(5L);
    }

    @Test
    void aStopSavesACheckpointThatResumesIntoTheSameSequence() throws Exception {
        List<Double> expected = uninterrupted();
        Path run = tmp.resolve("stopped");
        try (CpuBackend be = new CpuBackend(2)) {
            Map<String, Object> summary;
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), STEPS, 0)), run, tmp, providers(be),
                    Map.of())) {
                summary = r.run(p -> {
                    if (p.step().step() == 4) {
                        r.requestStop("test");
                    }
                });
                assertThat(r.stopped()).isTrue();
            }
            assertThat(summary).containsEntry("steps", 4).containsEntry("stopped", "test");
            assertThat(run.resolve("checkpoints/step-000004")).isDirectory();
            try (TrainingRun r = TrainingRun.resume(run, tmp, providers(be), Map.of())) {
                r.run(p -> { });
            }
        }
        assertThat(losses(run)).isEqualTo(expected);
    }
}
