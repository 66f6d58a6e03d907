package dev.cornerstone.cluster.parallel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.Communicators;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;

/**
 * Data-parallel training of a small GPT on Moby Dick: two ranks, each with a CPU backend of
 * its own, taking half of every global batch and averaging gradients over a ring (streamed over
 * loopback, in buckets of 64 KiB started during backward), log the loss sequence of
 * single-process training on the whole batch, within {@link #LOSS_TOLERANCE}; and their
 * parameters stay identical, bit for bit. And the buckets really start while backward runs.
 */
class DataParallelTrainingTest {

    /**
     * The ranks sum the gradient in another order than one process does (two half-batch
     * means, then their mean), so the losses drift apart by float rounding, step after step
     * (measured: at most 5e-7 nats over the 12 steps here).
     */
    static final double LOSS_TOLERANCE = 1e-4;
    static final int STEPS = 12;

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

    static Map<String, Object> spec(Path corpus) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 2, "n_head", 2, "n_embd", 64,
                "block_size", 32)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 3e-3, "weight_decay", 0.1)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", corpus.toString(), "tokenizer", "char",
                "val_fraction", 0.1)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 16, "steps", STEPS, "eval_every", STEPS,
                "eval_batches", 2, "log_every", 1, "checkpoint_every", STEPS, "seed", 1337, "grad_clip", 1.0)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
        return s;
    }

    static Path corpus() {
        Path p = Path.of(System.getProperty("cornerstone.corpus.dir", "../../distribution/src/main/dist/data"),
                "moby-dick.txt");
        assertThat(p).as("the Moby Dick corpus committed with the distribution").isRegularFile();
        return p.toAbsolutePath();
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            l.add(((Number) ((Map<?, ?>) Json.read(line, "metrics")).get("train_loss")).doubleValue());
        }
        return l;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBatchTheRanksCannotShareEquallyIsRefused() throws Exception {
        Map<String, Object> spec = spec(corpus());
        ((Map<String, Object>) spec.get("train")).put("batch_size", 15);
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.create(TrainSpec.from(spec), tmp.resolve("odd"), tmp, providers(be),
                     Map.of())) {
            dev.cornerstone.core.train.GradientSync two = new dev.cornerstone.core.train.GradientSync() {
                @Override
                public int rank() {
                    return 0;
                }

                @Override
                public int worldSize() {
                    return 2;
                }

                @Override
                public void averageGradients(java.util.SequencedMap<String, Tensor> grads,
                                             dev.cornerstone.api.backend.ComputeBackend backend) {
                    throw new AssertionError("not reached");
                }

                @Override
                public double average(double value) {
                    throw new AssertionError("not reached");
                }
            };
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.trainer().dataParallel(two))
                    .hasMessage("train.batch_size 15 must be a multiple of the 2 ranks of data-parallel training "
                            + "(each takes an equal share of every batch)");
        }
    }

    static TrainingRun.Providers providers(CpuBackend be) {
        return new TrainingRun.Providers(be, new GptProvider(), new AdamWProvider(), new TextDatasetProvider());
    }

    @Test
    void twoRanksLogTheLossSequenceOfOneProcessOnTheWholeBatch() throws Exception {
        Path corpus = corpus();
        Path single = tmp.resolve("single");
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus)), single, tmp, providers(be), Map.of())) {
            r.run(p -> { });
        }

        int world = 2;
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60));
        List<CompletableFuture<Communicator>> comms = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            comms.add(Communicators.create(vertx, "ddp-test", rank, world, options));
        }
        List<CompletableFuture<float[][]>> ranks = new ArrayList<>();
        List<List<Double>> localLosses = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            Communicator comm = comms.get(rank).get(30, TimeUnit.SECONDS);
            Path run = tmp.resolve("rank-" + rank);
            List<Double> local = java.util.Collections.synchronizedList(new ArrayList<>());
            localLosses.add(local);
            ranks.add(CompletableFuture.supplyAsync(() -> {
                try (comm;
                     CpuBackend be = new CpuBackend(1);
                     TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus)), run, tmp, providers(be),
                             Map.of())) {
                    DataParallelSync sync = new DataParallelSync(comm, 64 << 10); // several buckets
                    // Records the loss of the rank's own share before it is averaged.
                    r.trainer().dataParallel(new dev.cornerstone.core.train.GradientSync() {
                        @Override
                        public int rank() {
                            return sync.rank();
                        }

                        @Override
                        public int worldSize() {
                            return sync.worldSize();
                        }

                        @Override
                        public void averageGradients(java.util.SequencedMap<String, Tensor> grads,
                                                     dev.cornerstone.api.backend.ComputeBackend backend) {
                            sync.averageGradients(grads, backend);
                        }

                        @Override
                        public void gradientFinal(String name, Tensor grad,
                                                  dev.cornerstone.api.backend.ComputeBackend backend) {
                            sync.gradientFinal(name, grad, backend);
                        }

                        @Override
                        public double average(double value) {
                            local.add(value);
                            return sync.average(value);
                        }
                    });
                    r.run(p -> { });
                    List<float[]> params = new ArrayList<>();
                    for (Tensor t : r.model().parameters().values()) {
                        float[] v = new float[(int) t.size()];
                        be.read(t, 0, v, 0, v.length);
                        params.add(v);
                    }
                    return params.toArray(float[][]::new);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, runnable -> Thread.ofPlatform().name("rank").start(runnable)));
        }
        List<float[][]> params = new ArrayList<>();
        for (CompletableFuture<float[][]> f : ranks) {
            params.add(f.get(5, TimeUnit.MINUTES));
        }

        List<Double> want = losses(single);
        assertThat(want).hasSize(STEPS);
        for (int rank = 0; rank < world; rank++) {
            List<Double> got = losses(tmp.resolve("rank-" + rank));
            assertThat(got).hasSize(STEPS);
            for (int s = 0; s < STEPS; s++) {
                assertThat(got.get(s)).as("rank %d step %d (single process: %s)", rank, s + 1, want)
                        .isCloseTo(want.get(s), org.assertj.core.data.Offset.offset(LOSS_TOLERANCE));
            }
        }
        assertThat(losses(tmp.resolve("rank-1"))).as("both ranks log the same mean loss")
                .isEqualTo(losses(tmp.resolve("rank-0")));
        double worst = 0;
        for (int s = 0; s < STEPS; s++) {
            worst = Math.max(worst, Math.abs(losses(tmp.resolve("rank-0")).get(s) - want.get(s)));
            // Distinct shards: the ranks' own losses differ, and their mean is what was logged.
            double a = localLosses.get(0).get(s);
            double b = localLosses.get(1).get(s);
            assertThat(a).as("step %d: rank 0 and rank 1 trained on the same sequences", s + 1).isNotEqualTo(b);
            assertThat((float) ((a + b) / 2)).isCloseTo(losses(tmp.resolve("rank-0")).get(s).floatValue(),
                    org.assertj.core.data.Offset.offset(1e-6f));
        }
        System.out.printf("data parallel vs one process: largest loss difference over %d steps %.2e%n", STEPS, worst);
        for (int i = 0; i < params.get(0).length; i++) {
            assertThat(params.get(1)[i]).as("parameter tensor %d after training", i).isEqualTo(params.get(0)[i]);
        }
    }

    /** A communicator that records, in {@code events}, each all-reduce of more than one float as it starts. */
    record Recording(Communicator comm, List<String> events) implements Communicator {
        public String job() {
            return comm.job();
        }

        public int rank() {
            return comm.rank();
        }

        public int worldSize() {
            return comm.worldSize();
        }

        public long generation() {
            return comm.generation();
        }

        public CompletableFuture<Void> allReduce(float[] data, int offset, int length,
                                                 dev.cornerstone.cluster.collective.ReduceOp op) {
            if (length > 1) {
                events.add("all-reduce " + offset + "+" + length);
            }
            return comm.allReduce(data, offset, length, op);
        }

        public CompletableFuture<Void> reduceScatter(float[] data, int offset, int length,
                                                     dev.cornerstone.cluster.collective.ReduceOp op) {
            return comm.reduceScatter(data, offset, length, op);
        }

        public CompletableFuture<Void> allGather(float[] data, int offset, int length) {
            return comm.allGather(data, offset, length);
        }

        public CompletableFuture<Void> broadcast(float[] data, int offset, int length, int root) {
            return comm.broadcast(data, offset, length, root);
        }

        public void abort(String reason) {
            comm.abort(reason);
        }

        public void close() {
            comm.close();
        }
    }

    /**
     * With buckets of 16 KiB, from the second step on (the first makes the plan) the first
     * bucket's all-reduce starts before backward has made the last gradient final, and every
     * bucket is started by the time backward ends; each step's metrics say how many started
     * during backward and how long the rank then waited.
     */
    @Test
    void bucketsStartWhileBackwardStillRuns() throws Exception {
        Path corpus = corpus();
        int world = 2;
        int steps = 3;
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60));
        List<CompletableFuture<Communicator>> comms = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            comms.add(Communicators.create(vertx, "ddp-overlap", rank, world, options));
        }
        List<List<String>> events = new ArrayList<>();
        List<CompletableFuture<BucketPlan>> plans = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            List<String> ev = java.util.Collections.synchronizedList(new ArrayList<>());
            events.add(ev);
            Communicator comm = new Recording(comms.get(rank).get(30, TimeUnit.SECONDS), ev);
            Path run = tmp.resolve("overlap-" + rank);
            plans.add(CompletableFuture.supplyAsync(() -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> spec = spec(corpus);
                ((Map<String, Object>) spec.get("train")).put("steps", steps);
                ((Map<String, Object>) spec.get("train")).put("eval_every", 0);
                try (comm;
                     CpuBackend be = new CpuBackend(1);
                     TrainingRun r = TrainingRun.create(TrainSpec.from(spec), run, tmp, providers(be), Map.of())) {
                    DataParallelSync sync = new DataParallelSync(comm, 16 << 10);
                    r.trainer().dataParallel(new dev.cornerstone.core.train.GradientSync() {
                        @Override
                        public int rank() {
                            return sync.rank();
                        }

                        @Override
                        public int worldSize() {
                            return sync.worldSize();
                        }

                        @Override
                        public void gradientFinal(String name, Tensor grad,
                                                  dev.cornerstone.api.backend.ComputeBackend backend) {
                            ev.add("final " + name);
                            sync.gradientFinal(name, grad, backend);
                        }

                        @Override
                        public void averageGradients(java.util.SequencedMap<String, Tensor> grads,
                                                     dev.cornerstone.api.backend.ComputeBackend backend) {
                            ev.add("backward done");
                            sync.averageGradients(grads, backend);
                        }

                        @Override
                        public double average(double value) {
                            return sync.average(value);
                        }

                        @Override
                        public Map<String, Object> stepMetrics() {
                            return sync.stepMetrics();
                        }
                    });
                    r.run(p -> { });
                    return sync.plan();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, runnable -> Thread.ofPlatform().name("rank").start(runnable)));
        }
        BucketPlan plan = plans.get(0).get(5, TimeUnit.MINUTES);
        assertThat(plans.get(1).get(5, TimeUnit.MINUTES).fingerprint()).isEqualTo(plan.fingerprint());
        int buckets = plan.buckets().size();
        assertThat(buckets).as("buckets of 16 KiB for %d floats", plan.totalElements()).isGreaterThan(3);
        assertThat(plan.names().getFirst()).as("the first gradient final is the last layer's").startsWith("ln_f");
        assertThat(plan.names().getLast()).as("the tied embedding is final last").isEqualTo("wte.weight");
        System.out.println("bucket plan order: " + plan.names());

        for (int rank = 0; rank < world; rank++) {
            List<String> ev = List.copyOf(events.get(rank));
            List<Integer> ends = new ArrayList<>();
            for (int i = 0; i < ev.size(); i++) {
                if (ev.get(i).equals("backward done")) {
                    ends.add(i);
                }
            }
            assertThat(ends).hasSize(steps);
            for (int s = 1; s < steps; s++) { // steps 2 and 3
                int begin = ends.get(s - 1) + 1;
                while (!ev.get(begin).startsWith("final")) { // the previous step's buckets (the first's, at its end)
                    begin++;
                }
                List<String> step = ev.subList(begin, ends.get(s)); // this step's backward
                int firstReduce = -1;
                int lastFinal = -1;
                int reduces = 0;
                for (int i = 0; i < step.size(); i++) {
                    if (step.get(i).startsWith("all-reduce")) {
                        firstReduce = firstReduce < 0 ? i : firstReduce;
                        reduces++;
                    } else if (step.get(i).startsWith("final")) {
                        lastFinal = i;
                    }
                }
                assertThat(firstReduce).as("rank %d step %d: %s", rank, s + 1, step).isBetween(0, lastFinal);
                assertThat(step.get(firstReduce)).isEqualTo("all-reduce 0+" + plan.buckets().getFirst().length());
                assertThat(reduces).as("every bucket started during backward").isEqualTo(buckets);
            }
        }
        for (String line : Files.readAllLines(tmp.resolve("overlap-0").resolve("metrics.jsonl")).subList(1, steps)) {
            Map<?, ?> m = (Map<?, ?>) Json.read(line, "metrics");
            assertThat(((Number) m.get("buckets")).intValue()).isEqualTo(buckets);
            assertThat(((Number) m.get("buckets_started_in_backward")).intValue()).isEqualTo(buckets);
            assertThat(m.get("comm_wait_ms")).isInstanceOf(Number.class);
            assertThat(m.get("grad_read_ms")).isInstanceOf(Number.class);
        }
        System.out.println("bucket plan: " + buckets + " buckets; rank 0 metrics: "
                + Files.readAllLines(tmp.resolve("overlap-0").resolve("metrics.jsonl")).getLast());
    }

    /**
     * With two micro-batches a step, gradients are final only in the second one's backward: the
     * buckets start there (never after the first micro-batch, which would average half a gradient),
     * and two ranks still log one process's losses.
     */
    @Test
    @SuppressWarnings("unchecked")
    void withGradientAccumulationTheBucketsStartInTheLastMicroBatchOnly() throws Exception {
        Path corpus = corpus();
        int steps = 4;
        Map<String, Object> base = spec(corpus);
        ((Map<String, Object>) base.get("train")).putAll(Map.of("steps", steps, "grad_accum", 2, "batch_size", 8,
                "eval_every", 0));
        Path single = tmp.resolve("accum-single");
        try (CpuBackend be = new CpuBackend(1);
             TrainingRun r = TrainingRun.create(TrainSpec.from(base), single, tmp, providers(be), Map.of())) {
            r.run(p -> { });
        }
        int world = 2;
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60));
        List<CompletableFuture<Communicator>> comms = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            comms.add(Communicators.create(vertx, "ddp-accum", rank, world, options));
        }
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            Communicator comm = comms.get(rank).get(30, TimeUnit.SECONDS);
            Path run = tmp.resolve("accum-" + rank);
            runs.add(CompletableFuture.runAsync(() -> {
                try (comm;
                     CpuBackend be = new CpuBackend(1);
                     TrainingRun r = TrainingRun.create(TrainSpec.from(base), run, tmp, providers(be), Map.of())) {
                    r.trainer().dataParallel(new DataParallelSync(comm, 16 << 10)); // gets gradientFinal itself
                    r.run(p -> { });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, runnable -> Thread.ofPlatform().name("rank").start(runnable)));
        }
        for (CompletableFuture<Void> f : runs) {
            f.get(5, TimeUnit.MINUTES);
        }
        List<Double> want = losses(single);
        for (int rank = 0; rank < world; rank++) {
            List<Double> got = losses(tmp.resolve("accum-" + rank));
            assertThat(got).hasSize(steps);
            for (int s = 0; s < steps; s++) {
                assertThat(got.get(s)).as("rank %d step %d (one process: %s)", rank, s + 1, want)
                        .isCloseTo(want.get(s), org.assertj.core.data.Offset.offset(LOSS_TOLERANCE));
            }
            List<String> lines = Files.readAllLines(tmp.resolve("accum-" + rank).resolve("metrics.jsonl"));
            Map<?, ?> first = (Map<?, ?>) Json.read(lines.getFirst(), "metrics");
            assertThat(((Number) first.get("buckets_started_in_backward")).intValue()).as("the plan's step").isZero();
            int buckets = ((Number) first.get("buckets")).intValue();
            assertThat(buckets).isGreaterThan(3);
            for (String line : lines.subList(1, steps)) {
                Map<?, ?> m = (Map<?, ?>) Json.read(line, "metrics");
                // all during backward; had they started in the first micro-batch's backward, they would
                // have averaged half a gradient, and the losses above would not match
                assertThat(((Number) m.get("buckets_started_in_backward")).intValue()).as("rank %d: %s", rank, line)
                        .isEqualTo(buckets);
            }
        }
    }
}
