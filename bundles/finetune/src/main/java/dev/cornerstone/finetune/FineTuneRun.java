package dev.cornerstone.finetune;

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
import java.util.TreeSet;
import java.util.function.Consumer;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Tokenizer;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.nn.NamePattern;
import dev.cornerstone.core.train.PeakMemory;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.data.text.ByteTokenizer;
import dev.cornerstone.data.text.CharTokenizer;
import dev.cornerstone.data.text.ClassificationExample;
import dev.cornerstone.data.text.ClassificationJsonl;
import dev.cornerstone.data.text.ClassificationSplit;

/**
 * One fine-tuning run and its folder, laid out as a pre-training run's with what a classifier
 * adds:
 *
 * <pre>
 * runs/&lt;id&gt;/spec.json        the resolved fine-tuning spec
 *            model.json       the model section the classifier is built on (name, shape, vocab_size)
 *            tokenizer.json   the tokenizer (the pre-training run's, or made for a scratch model)
 *            classifier.json  labels in head order, pooling, max_tokens, where the tokenizer comes from
 *            base.json        the pre-training checkpoint started from, with the SHA-256 of its weights
 *            metrics.jsonl    one object per logged step: step, train_loss, lr, tokens_per_sec, elapsed_s;
 *                             evaluated steps add val_loss, accuracy, macro_f1, precision, recall, f1, confusion
 *            summary.json     the final held-out metrics, trainable and total parameters, peak memory, time
 *            checkpoints/step-NNNNNN/  model.safetensors: mode full and freeze every parameter (model and head),
 *                             mode lora only the adapter and the head (the base stays in its own run);
 *                             optimizer.safetensors, trainer.json, manifest.json as a pre-training checkpoint
 *            adapter/         mode lora: adapter.safetensors (the adapter alone) and adapter_config.json
 * </pre>
 */
final class FineTuneRun implements AutoCloseable {

    /** What the caller sees after each step. */
    record Progress(FineTuner.StepResult step, int totalSteps, double elapsedSeconds, double etaSeconds,
                    boolean logged, Metrics metrics, Path checkpoint) {
    }

    static final int CLASSIFIER_FORMAT = 1;

    private final Path runDir;
    private final FineTuneSpec spec;
    private final ComputeBackend backend;
    private final Classifier classifier;
    private final SequencedMap<String, Tensor> trainable;
    private final Optimizer optimizer;
    private final FineTuner tuner;
    private final TextSet train;
    private final TextSet validation;
    private final List<String> labels;
    private final BaseModel base;
    private final Map<String, String> bundleVersions;

    private FineTuneRun(Path runDir, FineTuneSpec spec, ComputeBackend backend, Classifier classifier,
                        SequencedMap<String, Tensor> trainable, Optimizer optimizer, TextSet train, TextSet validation,
                        List<String> labels, BaseModel base, Map<String, String> bundleVersions) {
        this.runDir = runDir;
        this.spec = spec;
        this.backend = backend;
        this.classifier = classifier;
        this.trainable = trainable;
        this.optimizer = optimizer;
        this.train = train;
        this.validation = validation;
        this.labels = labels;
        this.base = base;
        this.bundleVersions = bundleVersions;
        FineTuneSpec.Train t = spec.train();
        this.tuner = new FineTuner(backend, classifier, trainable, optimizer, train,
                new FineTuner.Config(t.batchSize(), t.steps(), t.gradClip(), t.seed(), t.schedule(), spec.pooling(),
                        lrScales(spec, classifier, trainable)));
    }

    /**
     * The factor on the schedule's rate of every trainable parameter: 1 for the head, body_lr_scale
     * for the others, times the adapter's own factor for its parameters (LoRA+'s lora.lr_ratio_b).
     */
    static Map<String, Double> lrScales(FineTuneSpec spec, Classifier classifier,
                                        SequencedMap<String, Tensor> trainable) {
        Map<String, Double> scales = new LinkedHashMap<>();
        Adapter adapter = classifier.adapter();
        for (String name : trainable.keySet()) {
            double f = 1.0;
            if (!classifier.head().containsKey(name)) {
                f = spec.bodyLrScale();
                if (adapter != null && adapter.parameters().containsKey(name)) {
                    f *= adapter.learningRateScale(name);
                }
            }
            scales.put(name, f);
        }
        return scales;
    }

    /**
     * Builds everything a run needs and writes the files that describe it; relative paths
     * ({@code finetune.from}, {@code data.path}) resolve against {@code baseDir}.
     */
    static FineTuneRun create(FineTuneSpec spec, Path runDir, Path baseDir, Providers p,
                              Map<String, String> bundleVersions) throws IOException {
        if (Files.exists(runDir.resolve("spec.json"))) {
            throw new IllegalArgumentException(runDir + " already holds a run; choose another --out");
        }
        Path dataFile = baseDir.resolve(spec.data().path()).toAbsolutePath().normalize();
        List<ClassificationExample> examples = read(dataFile);
        ClassificationSplit split = ClassificationSplit.of(examples, spec.data().valFraction());
        if (split.train().isEmpty() || split.validation().isEmpty()) {
            throw new IllegalArgumentException("data.val_fraction: " + spec.data().valFraction() + " leaves "
                    + split.train().size() + " training and " + split.validation().size() + " held-out texts of "
                    + dataFile + "; both need at least one");
        }
        List<String> labels = labels(spec, split, dataFile);
        ComputeBackend be = p.backend(spec.backendName());

        BaseModel base = null;
        Model model;
        Tokenizer tokenizer;
        Map<String, Object> modelSection;
        String tokenizerProvider;
        long seed = spec.train().seed();
        if (spec.fromScratch()) {
            tokenizer = "char".equals(spec.data().tokenizer()) ? CharTokenizer.fromText(TextSet.PREFIX
                    + String.join(TextSet.PREFIX, split.train().stream().map(ClassificationExample::text).toList()))
                    : ByteTokenizer.INSTANCE;
            tokenizerProvider = null;
            modelSection = new LinkedHashMap<>(spec.model());
            modelSection.put("vocab_size", tokenizer.vocabSize());
            model = p.model(String.valueOf(modelSection.get("name"))).create(be, TrainSpec.providerKeys(modelSection),
                    seed);
        } else {
            base = BaseModel.latest(baseDir.resolve(spec.from()));
            tokenizer = base.tokenizer(p);
            tokenizerProvider = base.datasetName();
            modelSection = base.modelSection();
            model = base.load(p, be);
        }
        FineTuneSpec resolved = spec.resolved(base == null ? null : base.run().toString(), labels);
        resolved.backend().put("name", be.name());
        Adapter adapter = null;
        Classifier classifier = null;
        Optimizer optimizer = null;
        try {
            int maxTokens = maxTokens(spec, model);
            TextSet train = TextSet.encode(split.train(), tokenizer, maxTokens, labels, dataFile, "the classes");
            TextSet validation = TextSet.encode(split.validation(), tokenizer, maxTokens, labels, dataFile,
                    "the classes");
            if (spec.mode() == FineTuneSpec.Mode.LORA) {
                adapter = p.adapter("lora").create(be, model.parameters(), spec.lora(), seed);
                resolved.lora().clear();
                resolved.lora().putAll(adapter.config());
            }
            classifier = new Classifier(be, model, adapter, labels.size(), seed);
            adapter = null; // the classifier owns it now
            SequencedMap<String, Tensor> trainable = trainable(spec, classifier);
            optimizer = p.optimizer(spec.optimizerName()).create(be, TrainSpec.providerKeys(spec.optimizer(), "lr"));

            Files.createDirectories(runDir);
            Files.writeString(runDir.resolve("spec.json"), Json.write(resolved.toMap(), true));
            Files.writeString(runDir.resolve("model.json"), Json.write(modelSection, true));
            Files.writeString(runDir.resolve("tokenizer.json"), Json.write(tokenizer.describe(), true));
            Files.writeString(runDir.resolve("classifier.json"), Json.write(classifierJson(labels, spec.pooling(),
                    maxTokens, tokenizerProvider), true));
            if (base != null) {
                Files.writeString(runDir.resolve("base.json"), Json.write(base.toMap(), true));
            }
            Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
            return new FineTuneRun(runDir, resolved, be, classifier, trainable, optimizer, train, validation, labels,
                    base, bundleVersions);
        } catch (IOException | RuntimeException e) {
            if (optimizer != null) {
                optimizer.close();
            }
            if (classifier != null) {
                classifier.close();
            } else {
                if (adapter != null) {
                    adapter.close();
                }
                model.close();
            }
            throw e;
        }
    }

    static Map<String, Object> classifierJson(List<String> labels, FineTuneSpec.Pooling pooling, int maxTokens,
                                              String tokenizerProvider) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("format_version", CLASSIFIER_FORMAT);
        c.put("labels", labels);
        c.put("pooling", pooling.name().toLowerCase(java.util.Locale.ROOT));
        c.put("max_tokens", maxTokens);
        c.put("text_prefix", TextSet.PREFIX);
        c.put("tokenizer_provider", tokenizerProvider);
        return c;
    }

    static List<ClassificationExample> read(Path dataFile) throws IOException {
        try {
            return ClassificationJsonl.read(dataFile);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("data.path: " + e.getMessage(), e);
        }
    }

    /** The spec's labels (every text's label must be one), or the training labels sorted. */
    private static List<String> labels(FineTuneSpec spec, ClassificationSplit split, Path file) {
        if (spec.data().labels() != null) {
            return spec.data().labels();
        }
        TreeSet<String> seen = new TreeSet<>();
        split.train().forEach(e -> seen.add(e.label()));
        if (seen.size() < 2) {
            throw new IllegalArgumentException("data.path: the training split of " + file + " has only the label "
                    + seen + "; a classifier needs at least two classes");
        }
        for (ClassificationExample e : split.validation()) {
            if (!seen.contains(e.label())) {
                throw new IllegalArgumentException("data.path: " + file + " line " + e.line() + ": label '" + e.label()
                        + "' is in the held-out split only, never in training (training labels: "
                        + String.join(", ", seen) + ")");
            }
        }
        return List.copyOf(seen);
    }

    private static int maxTokens(FineTuneSpec spec, Model model) {
        int m = spec.data().maxTokens();
        if (m == 0) {
            return model.blockSize();
        }
        if (m > model.blockSize()) {
            throw new IllegalArgumentException("data.max_tokens: " + m + " is more than the model's block_size "
                    + model.blockSize());
        }
        return m;
    }

    /** The parameters the mode trains: always the head; all, all but the frozen, or the adapter's. */
    static SequencedMap<String, Tensor> trainable(FineTuneSpec spec, Classifier c) {
        SequencedMap<String, Tensor> t = new LinkedHashMap<>();
        switch (spec.mode()) {
            case FULL -> t.putAll(c.model().parameters());
            case FREEZE -> {
                NamePattern.requireEachMatches("finetune.freeze", spec.freeze(), c.model().parameters().keySet());
                c.model().parameters().forEach((name, tensor) -> {
                    if (!NamePattern.any(spec.freeze(), name)) {
                        t.put(name, tensor);
                    }
                });
            }
            case LORA -> t.putAll(c.adapter().parameters());
        }
        t.putAll(c.head());
        return t;
    }

    /** What a checkpoint holds: every parameter, or for LoRA the adapter and the head (the base is its own run's). */
    static SequencedMap<String, Tensor> saved(FineTuneSpec.Mode mode, Classifier c) {
        SequencedMap<String, Tensor> s = new LinkedHashMap<>();
        if (mode == FineTuneSpec.Mode.LORA) {
            s.putAll(c.adapter().parameters());
        } else {
            s.putAll(c.model().parameters());
        }
        s.putAll(c.head());
        return s;
    }

    Classifier classifier() {
        return classifier;
    }

    FineTuneSpec spec() {
        return spec;
    }

    SequencedMap<String, Tensor> trainableParameters() {
        return trainable;
    }

    TextSet validation() {
        return validation;
    }

    List<String> labels() {
        return labels;
    }

    static long count(SequencedMap<String, Tensor> params) {
        return params.values().stream().mapToLong(Tensor::size).sum();
    }

    /** The start event's facts: trainable and total parameters, texts. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", spec.mode().name().toLowerCase(java.util.Locale.ROOT));
        m.put("trainable_parameters", count(trainable));
        m.put("total_parameters", count(classifier.parameters()));
        m.put("training_examples", train.size());
        m.put("validation_examples", validation.size());
        m.put("labels", labels);
        return m;
    }

    /** Trains to the last step, logging, evaluating and checkpointing as the spec says; writes summary.json. */
    Map<String, Object> run(Consumer<Progress> listener) throws IOException {
        FineTuneSpec.Train t = spec.train();
        List<Double> rates = new ArrayList<>();
        long t0 = System.nanoTime();
        float lastTrain = Float.NaN;
        Metrics last = null;
        long peakLive = backend.liveBytes();
        try (BufferedWriter metrics = Files.newBufferedWriter(runDir.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (!tuner.done()) {
                FineTuner.StepResult r = tuner.trainStep();
                peakLive = Math.max(peakLive, backend.liveBytes());
                if (r.step() > 1) {
                    rates.add(r.tokensPerSecond());
                }
                lastTrain = r.trainLoss();
                boolean end = r.step() == t.steps();
                Metrics evaluated = null;
                if (end || (t.evalEvery() > 0 && r.step() % t.evalEvery() == 0)) {
                    evaluated = tuner.evaluate(validation, labels);
                    last = evaluated;
                }
                double elapsed = (System.nanoTime() - t0) / 1e9;
                boolean log = r.step() % t.logEvery() == 0 || evaluated != null || end;
                if (log) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("step", r.step());
                    m.put("train_loss", (double) r.trainLoss());
                    m.put("lr", (double) r.lr());
                    m.put("tokens_per_sec", Math.round(r.tokensPerSecond() * 10) / 10.0);
                    m.put("elapsed_s", Math.round(elapsed * 1000) / 1000.0);
                    if (evaluated != null) {
                        m.putAll(evaluated.toMap());
                    }
                    metrics.write(Json.write(m, false));
                    metrics.newLine();
                    metrics.flush();
                }
                Path cp = null;
                if (end || (t.checkpointEvery() > 0 && r.step() % t.checkpointEvery() == 0)) {
                    cp = checkpoint(elapsed);
                }
                double eta = elapsed / r.step() * (t.steps() - r.step());
                listener.accept(new Progress(r, t.steps(), elapsed, eta, log, evaluated, cp));
            }
        }
        if (spec.mode() == FineTuneSpec.Mode.LORA) {
            saveAdapter();
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("steps", tuner.step());
        summary.put("final_train_loss", (double) lastTrain);
        if (last != null) {
            summary.putAll(last.toMap());
        }
        summary.putAll(describe());
        summary.put("median_tokens_per_sec", median(rates));
        summary.put("peak_backend_bytes", peakLive);
        summary.put("peak_rss_bytes", PeakMemory.peakRssBytes());
        summary.put("backend", backend.name());
        summary.put("device", backend.device());
        summary.put("elapsed_s", Math.round((System.nanoTime() - t0) / 1e6) / 1000.0);
        Files.writeString(runDir.resolve("summary.json"), Json.write(summary, true));
        return summary;
    }

    private Path checkpoint(double elapsed) throws IOException {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", tuner.step());
        state.put("data_position", tuner.dataPosition());
        state.put("seed", spec.train().seed());
        state.put("rng", "derived from seed and step: head initialisation from seed, batch k from (seed, k), "
                + "dropout from (seed, step)");
        state.put("elapsed_s", elapsed);
        state.put("spec", spec.toMap());
        if (base != null) {
            state.put("base", base.toMap());
        }
        state.put("bundles", bundleVersions);
        return Checkpoints.save(runDir.resolve("checkpoints"), tuner.step(), saved(spec.mode(), classifier),
                optimizer.state(trainable), state);
    }

    /** {@code adapter/adapter.safetensors} and {@code adapter/adapter_config.json}: the adapter on its own. */
    private void saveAdapter() throws IOException {
        Path dir = runDir.resolve("adapter");
        Files.createDirectories(dir);
        Adapter a = classifier.adapter();
        SafeTensors.write(dir.resolve("adapter.safetensors"), Checkpoints.toHost(a.parameters()),
                Map.of("format", "cornerstone-adapter", "adapter", "lora"));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("adapter", "lora");
        config.putAll(a.config());
        config.put("parameters", new ArrayList<>(a.parameters().keySet()));
        if (base != null) {
            config.put("base", base.toMap());
        }
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(config, true));
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
        tuner.close();
        optimizer.close();
        classifier.close();
    }
}
