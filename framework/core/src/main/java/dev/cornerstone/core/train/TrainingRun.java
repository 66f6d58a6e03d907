package dev.cornerstone.core.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Dataset;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.model.ModelProvider;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.optim.OptimizerProvider;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.config.Json;

/**
 * One training run and its folder:
 *
 * <pre>
 * runs/&lt;id&gt;/spec.json        the resolved spec (every key with its value)
 *            tokenizer.json   what rebuilds the tokenizer
 *            metrics.jsonl    one object per logged step: step, train_loss, val_loss, lr, tokens_per_sec, elapsed_s,
 *                             param_bytes, optimizer_state_bytes (held by this rank: about 1/N of it with ZeRO-1),
 *                             cpu_ms_per_step (CPU time of the whole process, every thread, per step since the
 *                             previous line), the logged step's phases (Trainer.lastStepPhases: compute_ms, sync_ms,
 *                             update_ms, step_thread_cpu_ms), data parallel: the sync's GradientSync.stepMetrics
 *                             (comm_wait_ms, ...)
 *            summary.json     final losses, steps, median tokens/s, peak memory, param and optimizer state bytes, backend
 *            checkpoints/step-NNNNNN/
 * </pre>
 *
 * Resuming loads the newest checkpoint and continues the exact loss sequence: parameters,
 * optimizer state and step, and the data position come back; everything random derives from
 * the seed and the step.
 *
 * <p>Between two steps a run can be asked, from any thread, to stop (it saves a checkpoint
 * first) or to move to another backend ({@link #requestMove}): parameters, optimizer state,
 * step and data position are copied to the new backend and training goes on from the next
 * step, none lost or repeated; the moves are listed in {@code summary.json}.
 */
public final class TrainingRun implements AutoCloseable {

    /** The services a run uses, looked up by the spec's names. */
    public record Providers(ComputeBackend backend, ModelProvider model, OptimizerProvider optimizer,
                            DatasetProvider data) {
    }

    /** What the caller sees after each step (a progress bar, a log line, the event bus). */
    public record Progress(Trainer.StepResult step, int totalSteps, double elapsedSeconds, double etaSeconds,
                           boolean logged, Path checkpoint) {
    }

    /** A move to another backend, asked for and not yet done. */
    private record MoveRequest(ComputeBackend target, CompletableFuture<Move> done) {
    }

    /** A move done: at which step (the last one trained before it), from and to which backend, how long training paused. */
    public record Move(int step, String from, String to, double pauseSeconds) {
    }

    private final Path runDir;
    private final TrainSpec spec;
    private final Dataset dataset;
    private final Map<String, String> bundleVersions;
    private final Map<String, Object> modelKeys;
    // replaced together, between steps, by a move to another backend
    private volatile Providers providers;
    private Model model;
    private Optimizer optimizer;
    private Trainer trainer;
    private double elapsedBefore;
    private final List<Move> moves = new ArrayList<>();
    private volatile MoveRequest pendingMove;
    private volatile boolean stopRequested;
    private volatile String stopReason;
    private volatile boolean stopped;

    private TrainingRun(Path runDir, TrainSpec spec, Providers p, Dataset dataset, Map<String, String> bundleVersions) {
        this.runDir = runDir;
        this.spec = spec;
        this.providers = p;
        this.dataset = dataset;
        this.bundleVersions = bundleVersions;
        this.modelKeys = TrainSpec.providerKeys(spec.model());
        modelKeys.put("vocab_size", dataset.tokenizer().vocabSize());
        this.model = p.model().create(p.backend(), modelKeys, spec.train().seed());
        spec.model().put("vocab_size", dataset.tokenizer().vocabSize());
        try {
            this.optimizer = p.optimizer().create(p.backend(), TrainSpec.providerKeys(spec.optimizer(), "lr"));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        this.trainer = newTrainer(p.backend(), model, optimizer);
    }

    private Trainer newTrainer(ComputeBackend be, Model m, Optimizer o) {
        TrainSpec.Train t = spec.train();
        return new Trainer(be, m, o, dataset.train(), dataset.validation(),
                new Trainer.Config(t.batchSize(), t.steps(), t.gradAccum(), t.gradClip(), t.evalEvery(),
                        t.evalBatches(), t.seed(), t.schedule()));
    }

    /** Starts a new run in {@code runDir} (which must not hold a run already). */
    public static TrainingRun create(TrainSpec spec, Path runDir, Path dataBaseDir, Providers p,
                                     Map<String, String> bundleVersions) throws IOException {
        if (Files.exists(runDir.resolve("spec.json"))) {
            throw new IllegalArgumentException(runDir + " already holds a run; resume it or choose another --out");
        }
        Dataset ds = p.data().open(TrainSpec.providerKeys(spec.data()), dataBaseDir);
        Files.createDirectories(runDir);
        TrainingRun run = new TrainingRun(runDir, spec, p, ds, bundleVersions);
        Files.writeString(runDir.resolve("spec.json"), Json.write(spec.toMap(), true));
        Files.writeString(runDir.resolve("tokenizer.json"), Json.write(ds.tokenizer().describe(), true));
        Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
        return run;
    }

    /** Continues the run in {@code runDir} from its newest checkpoint. */
    @SuppressWarnings("unchecked")
    public static TrainingRun resume(Path runDir, Path dataBaseDir, Providers p, Map<String, String> bundleVersions)
            throws IOException {
        Path specFile = runDir.resolve("spec.json");
        if (!Files.isRegularFile(specFile)) {
            throw new IllegalArgumentException(runDir + " is not a run folder: no spec.json");
        }
        TrainSpec spec = TrainSpec.from((Map<String, Object>) Json.read(Files.readString(specFile),
                specFile.toString()));
        Path cp = Checkpoints.latest(runDir.resolve("checkpoints")).orElseThrow(() ->
                new IllegalArgumentException(runDir + " has no checkpoint to resume from"));
        Checkpoints.Loaded loaded = Checkpoints.load(cp);
        Dataset ds = p.data().open(TrainSpec.providerKeys(spec.data()), dataBaseDir);
        Object savedTok = Json.read(Files.readString(runDir.resolve("tokenizer.json")), "tokenizer.json");
        if (!ds.tokenizer().describe().equals(savedTok)) {
            throw new IllegalArgumentException(runDir.resolve("tokenizer.json") + ": the corpus now gives another "
                    + "tokenizer than the run was trained with (the data changed?)");
        }
        TrainingRun run = new TrainingRun(runDir, spec, p, ds, bundleVersions);
        Checkpoints.toDevice(loaded.model().tensors(), run.model.parameters(), cp.resolve("model.safetensors")
                .toString());
        // written into the optimizer at its first use, when the trainer knows which parameters it holds (ZeRO-1)
        run.trainer.restoreOptimizerState(loaded.optimizer().tensors(), cp.resolve("optimizer.safetensors").toString());
        long position = ((Number) loaded.trainer().get("data_position")).longValue();
        run.trainer.restore(loaded.step(), position);
        run.elapsedBefore = ((Number) loaded.trainer().getOrDefault("elapsed_s", 0.0)).doubleValue();
        run.truncateMetrics(loaded.step());
        return run;
    }

    private void truncateMetrics(int step) throws IOException {
        Path f = runDir.resolve("metrics.jsonl");
        if (!Files.exists(f)) {
            return;
        }
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
            if (line.isBlank()) {
                continue;
            }
            Object o;
            try {
                o = Json.read(line, f.toString());
            } catch (IllegalArgumentException e) {
                break; // a line cut by a crash: everything after it is gone too
            }
            if (o instanceof Map<?, ?> m && m.get("step") instanceof Number n && n.intValue() <= step) {
                keep.add(line);
            }
        }
        Files.write(f, keep);
    }

    public Model model() {
        return model;
    }

    public Dataset dataset() {
        return dataset;
    }

    public Trainer trainer() {
        return trainer;
    }

    public TrainSpec spec() {
        return spec;
    }

    /** The backend the run trains on now. */
    public ComputeBackend backend() {
        return providers.backend();
    }

    public Path runDir() {
        return runDir;
    }

    /** The moves to other backends so far. */
    public synchronized List<Move> moves() {
        return List.copyOf(moves);
    }

    /**
     * Asks the run to move to {@code target} after the step in progress; the future completes
     * when the move is done (or fails with why: the run then goes on where it was). A run that
     * is not training ({@link #run} not called, or returned) moves at once, on this thread.
     */
    public CompletableFuture<Move> requestMove(ComputeBackend target) {
        MoveRequest r = new MoveRequest(target, new CompletableFuture<>());
        synchronized (this) {
            if (!running) {
                completeMove(r);
                return r.done();
            }
            if (pendingMove != null) {
                pendingMove.done().completeExceptionally(new IllegalStateException(
                        "replaced by a move to " + target.name()));
            }
            pendingMove = r;
        }
        return r.done();
    }

    /** Asks the run to stop after the step in progress, with a checkpoint; {@code reason} goes into summary.json. */
    public void requestStop(String reason) {
        stopReason = reason;
        stopRequested = true;
    }

    /** Whether the run ended early, on request. */
    public boolean stopped() {
        return stopped;
    }

    private boolean running;

    private synchronized void completeMove(MoveRequest r) {
        try {
            r.done().complete(moveTo(r.target()));
        } catch (RuntimeException | Error e) {
            r.done().completeExceptionally(e);
        }
    }

    /**
     * Moves parameters, optimizer state, step and data position to {@code target}: a new model
     * and optimizer are made there and filled, then the old ones are closed, freeing the old
     * backend's memory. On failure the run stays on its backend, as it was.
     */
    private Move moveTo(ComputeBackend target) {
        long t0 = System.nanoTime();
        ComputeBackend from = providers.backend();
        if (target == from) {
            return new Move(trainer.step(), from.name(), target.name(), 0);
        }
        SequencedMap<String, Tensor> params = model.parameters();
        Map<String, Object> paramValues = copyOut(params);
        Map<String, Object> stateValues = copyOut(trainer.optimizerState());
        int step = trainer.step();
        long position = trainer.data().position();
        Model m = null;
        Optimizer o = null;
        Trainer tr;
        try {
            m = providers.model().create(target, modelKeys, spec.train().seed());
            copyIn(paramValues, m.parameters());
            o = providers.optimizer().create(target, TrainSpec.providerKeys(spec.optimizer(), "lr"));
            tr = newTrainer(target, m, o);
            if (trainer.gradientSync() != null) {
                tr.dataParallel(trainer.gradientSync());
            }
            copyIn(stateValues, tr.optimizerState());
            o.setStepCount(optimizer.stepCount());
            tr.restore(step, position);
        } catch (RuntimeException | Error e) {
            if (o != null) {
                o.close();
            }
            if (m != null) {
                m.close();
            }
            throw e;
        }
        Trainer oldTrainer = trainer;
        Optimizer oldOptimizer = optimizer;
        Model oldModel = model;
        trainer = tr;
        optimizer = o;
        model = m;
        Providers p = providers;
        providers = new Providers(target, p.model(), p.optimizer(), p.data());
        oldTrainer.close();
        oldOptimizer.close();
        oldModel.close();
        Move move = new Move(step, from.name(), target.name(), (System.nanoTime() - t0) / 1e9);
        moves.add(move);
        return move;
    }

    private static Map<String, Object> copyOut(SequencedMap<String, Tensor> tensors) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            int n = Math.toIntExact(t.size());
            if (t.dtype() == DType.I32) {
                int[] v = new int[n];
                t.backend().readInts(t, 0, v, 0, n);
                values.put(e.getKey(), v);
            } else {
                float[] v = new float[n];
                t.backend().read(t, 0, v, 0, n);
                values.put(e.getKey(), v);
            }
        }
        return values;
    }

    private static void copyIn(Map<String, Object> values, SequencedMap<String, Tensor> into) {
        if (!values.keySet().equals(into.keySet())) {
            throw new IllegalStateException("the new backend's model holds tensors " + into.keySet()
                    + ", the old one " + values.keySet());
        }
        for (Map.Entry<String, Tensor> e : into.entrySet()) {
            Tensor t = e.getValue();
            Object v = values.get(e.getKey());
            if (v instanceof int[] ints) {
                t.backend().writeInts(t, 0, ints, 0, ints.length);
            } else {
                float[] floats = (float[]) v;
                t.backend().write(t, 0, floats, 0, floats.length);
            }
        }
    }

    /** Trains to the last step, logging, evaluating and checkpointing as the spec says; writes summary.json. */
    public Map<String, Object> run(Consumer<Progress> listener) throws IOException {
        TrainSpec.Train t = spec.train();
        List<Double> rates = new ArrayList<>();
        long t0 = System.nanoTime();
        int startStep = trainer.step();
        long cpuAtLastLine = processCpuNanos();
        int stepAtLastLine = startStep;
        float lastVal = Float.NaN;
        float lastTrain = Float.NaN;
        long peakLive = providers.backend().liveBytes();
        synchronized (this) {
            running = true;
        }
        try (BufferedWriter metrics = !writer ? new BufferedWriter(java.io.Writer.nullWriter())
                : Files.newBufferedWriter(runDir.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (!trainer.done()) {
                MoveRequest move;
                synchronized (this) {
                    move = pendingMove;
                    pendingMove = null;
                }
                if (move != null) {
                    completeMove(move);
                }
                if (stopRequested) {
                    stopped = true;
                    if (trainer.step() > 0) {
                        checkpoint(elapsedBefore + (System.nanoTime() - t0) / 1e9);
                    }
                    break;
                }
                Trainer.StepResult r = trainer.trainStep();
                checkFence();
                peakLive = Math.max(peakLive, providers.backend().liveBytes());
                if (r.step() > 1) { // the first step includes warm-up (JIT, allocation): not a rate
                    rates.add(r.tokensPerSecond());
                }
                lastTrain = r.trainLoss();
                if (!Float.isNaN(r.valLoss())) {
                    lastVal = r.valLoss();
                }
                double elapsed = elapsedBefore + (System.nanoTime() - t0) / 1e9;
                boolean log = r.step() % t.logEvery() == 0 || !Float.isNaN(r.valLoss()) || r.step() == t.steps();
                if (log) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("step", r.step());
                    m.put("train_loss", (double) r.trainLoss());
                    if (!Float.isNaN(r.valLoss())) {
                        m.put("val_loss", (double) r.valLoss());
                    }
                    m.put("lr", (double) r.lr());
                    m.put("tokens_per_sec", Math.round(r.tokensPerSecond() * 10) / 10.0);
                    m.put("elapsed_s", Math.round(elapsed * 1000) / 1000.0);
                    m.put("param_bytes", trainer.parameterBytes());
                    m.put("optimizer_state_bytes", trainer.optimizerStateBytes());
                    long cpu = processCpuNanos();
                    if (cpu >= 0 && cpuAtLastLine >= 0) {
                        m.put("cpu_ms_per_step", Math.round((cpu - cpuAtLastLine) / 1e4 / (r.step() - stepAtLastLine))
                                / 100.0);
                    }
                    cpuAtLastLine = cpu;
                    stepAtLastLine = r.step();
                    m.putAll(trainer.lastStepPhases());
                    if (trainer.gradientSync() != null) {
                        m.putAll(trainer.gradientSync().stepMetrics());
                    }
                    if (lineExtras != null) {
                        m.putAll(lineExtras.apply(r.step()));
                    }
                    metrics.write(Json.write(m, false));
                    metrics.newLine();
                    metrics.flush();
                }
                Path cp = null;
                boolean checkpoint = (t.checkpointEvery() > 0 && r.step() % t.checkpointEvery() == 0)
                        || r.step() == t.steps();
                if (checkpoint) {
                    cp = checkpoint(elapsed);
                }
                double perStep = (System.nanoTime() - t0) / 1e9 / (r.step() - startStep);
                double eta = perStep * (t.steps() - r.step());
                listener.accept(new Progress(r, t.steps(), elapsed, eta, log, cp));
            }
        } finally {
            MoveRequest left;
            synchronized (this) {
                running = false;
                left = pendingMove;
                pendingMove = null;
            }
            if (left != null) {
                completeMove(left);
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("steps", trainer.step());
        if (stopped) {
            summary.put("stopped", stopReason == null ? "on request" : stopReason);
        }
        summary.put("final_train_loss", (double) lastTrain);
        if (!Float.isNaN(lastVal)) {
            summary.put("final_val_loss", (double) lastVal);
        }
        summary.put("median_tokens_per_sec", median(rates));
        summary.put("peak_backend_bytes", peakLive);
        summary.put("peak_rss_bytes", PeakMemory.peakRssBytes());
        summary.put("param_bytes", trainer.parameterBytes());
        summary.put("optimizer_state_bytes", trainer.optimizerStateBytes());
        if (trainer.gradientSync() != null) {
            summary.put("world_size", trainer.gradientSync().worldSize());
            summary.put("rank", trainer.gradientSync().rank());
        }
        summary.put("backend", providers.backend().name());
        summary.put("device", providers.backend().device());
        if (!moves.isEmpty()) {
            List<Map<String, Object>> ms = new ArrayList<>();
            for (Move m : moves()) {
                Map<String, Object> mm = new LinkedHashMap<>();
                mm.put("after_step", m.step());
                mm.put("from", m.from());
                mm.put("to", m.to());
                mm.put("pause_s", Math.round(m.pauseSeconds() * 1000) / 1000.0);
                ms.add(mm);
            }
            summary.put("backend_moves", ms);
        }
        summary.put("elapsed_s", Math.round((elapsedBefore + (System.nanoTime() - t0) / 1e9) * 1000) / 1000.0);
        if (writer) {
            Files.writeString(runDir.resolve("summary.json"), Json.write(summary, true));
        }
        return summary;
    }

    private Path checkpoint(double elapsed) throws IOException {
        checkFence();
        // the whole optimizer state under single-process names: with ZeRO-1 a gather from every
        // rank, so every rank takes part, and only the writer saves
        SequencedMap<String, dev.cornerstone.core.checkpoint.SafeTensors.Entry> optimizerState =
                trainer.fullOptimizerState();
        if (!writer) {
            return null;
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", trainer.step());
        state.put("data_position", trainer.data().position());
        state.put("seed", spec.train().seed());
        state.put("rng", "derived from seed and step: initialisation from seed, batch k from (seed, k), "
                + "dropout from (seed, step, micro-batch)");
        state.put("elapsed_s", elapsed);
        state.put("spec", spec.toMap());
        state.put("bundles", bundleVersions);
        return Checkpoints.saveHost(runDir.resolve("checkpoints"), trainer.step(), model.parameters(),
                optimizerState, state);
    }

    static double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return 0;
        }
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        return Math.round(s.get(s.size() / 2) * 10) / 10.0;
    }

    @Override
    public void close() {
        trainer.close();
        optimizer.close();
        model.close();
    }

    // ---- one rank of a distributed run (cluster jobs) ------------------------------------------

    /** Whether this process writes the run folder (metrics, checkpoints, summary); false for ranks other than 0. */
    private boolean writer = true;
    /** Asked after every step and before every checkpoint: null to go on, else why this rank must not advance. */
    private java.util.function.Supplier<String> fence;
    /** Keys added to every metrics line, by step (a cluster job's generation and world, re-run steps). */
    private java.util.function.IntFunction<Map<String, Object>> lineExtras;

    /**
     * One rank of a run whose folder {@code runDir} rank 0 writes and the others only read.
     * With {@code checkpoint} null it starts from step 0 (the writer then writes spec.json and
     * tokenizer.json and clears metrics.jsonl); otherwise it loads that checkpoint (parameters,
     * optimizer state, step, data position), and the writer cuts metrics.jsonl back to its step.
     * The checkpoint holds the whole model and optimizer state and the global data position, so
     * any number of ranks resumes it. A rank that is not the writer writes nothing.
     */
    public static TrainingRun forRank(TrainSpec spec, Path runDir, Path checkpoint, boolean writer, Path dataBaseDir,
                                      Providers p, Map<String, String> bundleVersions) throws IOException {
        Dataset ds = p.data().open(TrainSpec.providerKeys(spec.data()), dataBaseDir);
        TrainingRun run = new TrainingRun(runDir, spec, p, ds, bundleVersions);
        try {
            run.writer = writer;
            if (writer) {
                Files.createDirectories(runDir);
                Files.writeString(runDir.resolve("spec.json"), Json.write(spec.toMap(), true));
                Files.writeString(runDir.resolve("tokenizer.json"), Json.write(ds.tokenizer().describe(), true));
            }
            if (checkpoint == null) {
                if (writer) {
                    Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
                }
                return run;
            }
            Checkpoints.Loaded loaded = Checkpoints.load(checkpoint);
            Checkpoints.toDevice(loaded.model().tensors(), run.model.parameters(),
                    checkpoint.resolve("model.safetensors").toString());
            // written into the optimizer at its first use, once the trainer knows which parameters it holds (ZeRO-1)
            run.trainer.restoreOptimizerState(loaded.optimizer().tensors(),
                    checkpoint.resolve("optimizer.safetensors").toString());
            run.trainer.restore(loaded.step(), ((Number) loaded.trainer().get("data_position")).longValue());
            run.elapsedBefore = ((Number) loaded.trainer().getOrDefault("elapsed_s", 0.0)).doubleValue();
            if (writer) {
                run.truncateMetrics(loaded.step());
            }
            return run;
        } catch (IOException | RuntimeException e) {
            run.close();
            throw e;
        }
    }

    /**
     * Fencing and metrics of one rank of a distributed run (call before {@link #run}):
     * {@code fence} is asked after every step and before every checkpoint, and when it answers
     * a reason the run fails with it, before writing anything; {@code lineExtras} adds keys to
     * the metrics line of a step.
     */
    public void distribute(java.util.function.Supplier<String> fence,
                           java.util.function.IntFunction<Map<String, Object>> lineExtras) {
        this.fence = fence;
        this.lineExtras = lineExtras;
    }

    /** The highest step logged in metrics.jsonl of {@code runDir}, 0 when none (for re-run steps after a resume). */
    public static int lastLoggedStep(Path runDir) throws IOException {
        Path f = runDir.resolve("metrics.jsonl");
        int last = 0;
        if (!Files.exists(f)) {
            return 0;
        }
        for (String line : Files.readAllLines(f)) {
            try {
                if (!line.isBlank() && Json.read(line, f.toString()) instanceof Map<?, ?> m
                        && m.get("step") instanceof Number n) {
                    last = Math.max(last, n.intValue());
                }
            } catch (IllegalArgumentException e) {
                break;
            }
        }
        return last;
    }

    /** CPU time of this process, every thread, in nanoseconds; -1 where the JVM does not say. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    private void checkFence() {
        String why = fence == null ? null : fence.get();
        if (why != null) {
            throw new FencedException(why);
        }
    }

    /** This rank may not advance the run any more (its generation was replaced, or its side lost the quorum). */
    public static final class FencedException extends IllegalStateException {
        public FencedException(String message) {
            super(message);
        }
    }
}
