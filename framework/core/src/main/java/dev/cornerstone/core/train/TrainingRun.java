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
import java.util.function.Consumer;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Dataset;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.model.ModelProvider;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.optim.OptimizerProvider;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.config.Json;

/**
 * One training run and its folder:
 *
 * <pre>
 * runs/&lt;id&gt;/spec.json        the resolved spec (every key with its value)
 *            tokenizer.json   what rebuilds the tokenizer
 *            metrics.jsonl    one object per logged step: step, train_loss, val_loss, lr, tokens_per_sec, elapsed_s
 *            summary.json     final losses, steps, median tokens/s, peak memory, backend
 *            checkpoints/step-NNNNNN/
 * </pre>
 *
 * Resuming loads the newest checkpoint and continues the exact loss sequence: parameters,
 * optimizer state and step, and the data position come back; everything random derives from
 * the seed and the step.
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

    private final Path runDir;
    private final TrainSpec spec;
    private final Providers providers;
    private final Dataset dataset;
    private final Model model;
    private final Optimizer optimizer;
    private final Trainer trainer;
    private final Map<String, String> bundleVersions;
    private double elapsedBefore;

    private TrainingRun(Path runDir, TrainSpec spec, Providers p, Dataset dataset, Map<String, String> bundleVersions) {
        this.runDir = runDir;
        this.spec = spec;
        this.providers = p;
        this.dataset = dataset;
        this.bundleVersions = bundleVersions;
        Map<String, Object> modelKeys = TrainSpec.providerKeys(spec.model());
        modelKeys.put("vocab_size", dataset.tokenizer().vocabSize());
        this.model = p.model().create(p.backend(), modelKeys, spec.train().seed());
        spec.model().put("vocab_size", dataset.tokenizer().vocabSize());
        this.optimizer = p.optimizer().create(p.backend(), TrainSpec.providerKeys(spec.optimizer(), "lr"));
        TrainSpec.Train t = spec.train();
        this.trainer = new Trainer(p.backend(), model, optimizer, dataset.train(), dataset.validation(),
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
        Checkpoints.toDevice(loaded.optimizer().tensors(), run.optimizer.state(run.model.parameters()),
                cp.resolve("optimizer.safetensors").toString());
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

    /** Trains to the last step, logging, evaluating and checkpointing as the spec says; writes summary.json. */
    public Map<String, Object> run(Consumer<Progress> listener) throws IOException {
        TrainSpec.Train t = spec.train();
        List<Double> rates = new ArrayList<>();
        long t0 = System.nanoTime();
        int startStep = trainer.step();
        float lastVal = Float.NaN;
        float lastTrain = Float.NaN;
        long peakLive = providers.backend().liveBytes();
        try (BufferedWriter metrics = Files.newBufferedWriter(runDir.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (!trainer.done()) {
                Trainer.StepResult r = trainer.trainStep();
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
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("steps", trainer.step());
        summary.put("final_train_loss", (double) lastTrain);
        if (!Float.isNaN(lastVal)) {
            summary.put("final_val_loss", (double) lastVal);
        }
        summary.put("median_tokens_per_sec", median(rates));
        summary.put("peak_backend_bytes", peakLive);
        summary.put("peak_rss_bytes", PeakMemory.peakRssBytes());
        summary.put("backend", providers.backend().name());
        summary.put("device", providers.backend().device());
        summary.put("elapsed_s", Math.round((elapsedBefore + (System.nanoTime() - t0) / 1e9) * 1000) / 1000.0);
        Files.writeString(runDir.resolve("summary.json"), Json.write(summary, true));
        return summary;
    }

    private Path checkpoint(double elapsed) throws IOException {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", trainer.step());
        state.put("data_position", trainer.data().position());
        state.put("seed", spec.train().seed());
        state.put("rng", "derived from seed and step: initialisation from seed, batch k from (seed, k), "
                + "dropout from (seed, step, micro-batch)");
        state.put("elapsed_s", elapsed);
        state.put("spec", spec.toMap());
        state.put("bundles", bundleVersions);
        return Checkpoints.save(runDir.resolve("checkpoints"), trainer.step(), model.parameters(),
                optimizer.state(model.parameters()), state);
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
}
