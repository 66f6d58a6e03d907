package dev.cornerstone.cluster.parallel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.Communicators;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;

/**
 * The run folder of a cluster job's ranks ({@link TrainingRun#forRank}): only rank 0 writes it;
 * its checkpoint, taken by two ranks, resumes in one and continues the same losses; a fence
 * that says no stops a rank before it writes anything of that step.
 */
class RankRunFolderTest {

    static final int STEPS = 6;
    static Vertx vertx;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @SuppressWarnings("unchecked")
    static TrainSpec spec() {
        Map<String, Object> s = DataParallelTrainingTest.spec(DataParallelTrainingTest.corpus());
        Map<String, Object> m = (Map<String, Object>) s.get("model");
        m.put("n_layer", 1);
        m.put("n_embd", 32);
        Map<String, Object> t = (Map<String, Object>) s.get("train");
        t.put("batch_size", 8);
        t.put("steps", STEPS);
        t.put("checkpoint_every", 3);
        t.put("eval_every", 0);
        return TrainSpec.from(s);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> lines(Path run) throws Exception {
        List<Map<String, Object>> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            l.add((Map<String, Object>) Json.read(line, "metrics"));
        }
        return l;
    }

    @Test
    void rankZeroWritesTheFolderAndItsCheckpointResumesInOneRank() throws Exception {
        Path run = tmp.resolve("job");
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60));
        List<CompletableFuture<Communicator>> comms = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            comms.add(Communicators.create(vertx, "folder", rank, 2, options));
        }
        AtomicInteger fenceCalls = new AtomicInteger();
        List<CompletableFuture<Void>> ranks = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            Communicator comm = comms.get(rank).get(30, TimeUnit.SECONDS);
            boolean writer = rank == 0;
            ranks.add(CompletableFuture.runAsync(() -> {
                try (comm;
                     CpuBackend be = new CpuBackend(1);
                     TrainingRun r = TrainingRun.forRank(spec(), run, null, writer, tmp,
                             DataParallelTrainingTest.providers(be), Map.of())) {
                    r.trainer().dataParallel(ParallelStrategy.DDP.sync(comm));
                    r.distribute(() -> {
                        fenceCalls.incrementAndGet();
                        return null;
                    }, step -> Map.of("generation", 1, "world", 2));
                    r.run(p -> { });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, runnable -> Thread.ofPlatform().name("rank").start(runnable)));
        }
        for (CompletableFuture<Void> f : ranks) {
            f.get(5, TimeUnit.MINUTES);
        }
        List<Map<String, Object>> two = lines(run);
        assertThat(two).as("one line per step, written once (by rank 0)").hasSize(STEPS);
        assertThat(two.get(0)).containsEntry("generation", 1L).containsEntry("world", 2L);
        try (var s = Files.list(run.resolve("checkpoints"))) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("step-000003", "step-000006");
        }
        // after every step and before every checkpoint, on both ranks
        assertThat(fenceCalls.get()).isEqualTo(2 * (STEPS + 2));

        // The checkpoint of step 3, taken by two ranks, resumed by one: the same losses follow.
        Path cp = run.resolve("checkpoints/step-000003");
        assertThat(TrainingRun.lastLoggedStep(run)).isEqualTo(STEPS);
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.forRank(spec(), run, cp, true, tmp, DataParallelTrainingTest.providers(be),
                     Map.of())) {
            assertThat(lines(run)).as("cut back to the checkpoint").hasSize(3);
            r.distribute(() -> null, step -> Map.of("generation", 2, "world", 1, "rerun", true));
            r.run(p -> { });
        }
        List<Map<String, Object>> one = lines(run);
        assertThat(one).hasSize(STEPS);
        for (int i = 3; i < STEPS; i++) {
            assertThat(one.get(i)).containsEntry("generation", 2L).containsEntry("rerun", true);
            assertThat(((Number) one.get(i).get("train_loss")).doubleValue()).as("step %d", i + 1)
                    .isCloseTo(((Number) two.get(i).get("train_loss")).doubleValue(),
                            org.assertj.core.data.Offset.offset(DataParallelTrainingTest.LOSS_TOLERANCE));
        }
    }

    @Test
    void aFencedRankStopsBeforeWritingTheStep() throws Exception {
        Path run = tmp.resolve("fenced");
        AtomicInteger steps = new AtomicInteger();
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.forRank(spec(), run, null, true, tmp, DataParallelTrainingTest.providers(be),
                     Map.of())) {
            r.distribute(() -> steps.incrementAndGet() > 2 ? "generation 1 was replaced by generation 2" : null,
                    step -> Map.of());
            assertThatThrownBy(() -> r.run(p -> { })).isInstanceOf(TrainingRun.FencedException.class)
                    .hasMessage("generation 1 was replaced by generation 2");
        }
        assertThat(lines(run)).as("steps 1 and 2 only").hasSize(2);
        assertThat(run.resolve("checkpoints")).doesNotExist();
        assertThat(run.resolve("summary.json")).doesNotExist();

        Path quiet = tmp.resolve("quiet");
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.forRank(spec(), quiet, null, false, tmp,
                     DataParallelTrainingTest.providers(be), Map.of())) {
            r.run(p -> { });
        }
        assertThat(quiet).as("a rank other than 0 writes nothing").doesNotExist();
    }
}
