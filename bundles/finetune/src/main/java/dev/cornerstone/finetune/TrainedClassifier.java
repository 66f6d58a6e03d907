package dev.cornerstone.finetune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Tokenizer;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.core.checkpoint.CheckpointException;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.data.text.ClassificationExample;
import dev.cornerstone.data.text.TokenizerDescriptions;

/**
 * A trained classifier loaded for use, from either of the two folders that hold one:
 *
 * <ul>
 *   <li>a fine-tuning run ({@link FineTuneRun}): its newest checkpoint; for mode lora also the
 *       base checkpoint recorded in {@code base.json}, whose SHA-256 must still match;</li>
 *   <li>a merged model written by {@link #writeMerged} ({@code cornerstone lora merge}): a plain
 *       pre-training run folder, loadable as any GPT, plus {@code classifier.json} and
 *       {@code classifier.safetensors} (the head).</li>
 * </ul>
 */
final class TrainedClassifier implements AutoCloseable {

    private final Path dir;
    private final ComputeBackend backend;
    private final Classifier classifier;
    private final Tokenizer tokenizer;
    private final List<String> labels;
    private final FineTuneSpec.Pooling pooling;
    private final int maxTokens;
    private final FineTuneSpec spec;
    private final int step;
    private boolean merged;

    private TrainedClassifier(Path dir, ComputeBackend backend, Classifier classifier, Tokenizer tokenizer,
                              Map<String, Object> classifierJson, FineTuneSpec spec, int step) {
        this.dir = dir;
        this.backend = backend;
        this.classifier = classifier;
        this.tokenizer = tokenizer;
        this.labels = labels(classifierJson, dir.resolve("classifier.json"));
        this.pooling = FineTuneSpec.Pooling.valueOf(String.valueOf(classifierJson.get("pooling")).toUpperCase(Locale.ROOT));
        this.maxTokens = ((Number) classifierJson.get("max_tokens")).intValue();
        this.spec = spec;
        this.step = step;
    }

    @SuppressWarnings("unchecked")
    private static List<String> labels(Map<String, Object> c, Path file) {
        if (!(c.get("labels") instanceof List<?> l) || l.size() < 2) {
            throw new IllegalArgumentException(file + ": no labels");
        }
        return (List<String>) l;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file.getParent() + " is not a fine-tuning run or a merged classifier: no "
                    + file.getFileName());
        }
        return (Map<String, Object>) Json.read(Files.readString(file), file.toString());
    }

    static TrainedClassifier load(Path runDir, Providers p, String backendName) throws IOException {
        Path dir = runDir.toAbsolutePath().normalize();
        Map<String, Object> spec = json(dir.resolve("spec.json"));
        Map<String, Object> classifierJson = json(dir.resolve("classifier.json"));
        Object format = classifierJson.get("format_version");
        if (!(format instanceof Number n) || n.intValue() != FineTuneRun.CLASSIFIER_FORMAT) {
            throw new IllegalArgumentException(dir.resolve("classifier.json") + ": format_version " + format
                    + ", this Cornerstone reads " + FineTuneRun.CLASSIFIER_FORMAT);
        }
        return spec.containsKey("finetune") ? fineTuned(dir, FineTuneSpec.from(spec), classifierJson, p, backendName)
                : merged(dir, classifierJson, p, backendName);
    }

    private static Tokenizer tokenizer(Path dir, Map<String, Object> classifierJson, Providers p) throws IOException {
        Map<String, Object> description = json(dir.resolve("tokenizer.json"));
        return classifierJson.get("tokenizer_provider") instanceof String name
                ? p.dataset(name).tokenizer(description)
                : TokenizerDescriptions.rebuild(description);
    }

    private static TrainedClassifier fineTuned(Path dir, FineTuneSpec spec, Map<String, Object> classifierJson,
                                               Providers p, String backendName) throws IOException {
        ComputeBackend be = p.backend(backendName != null ? backendName : spec.backendName());
        Map<String, Object> modelSection = json(dir.resolve("model.json"));
        Path cp = Checkpoints.latest(dir.resolve("checkpoints")).orElseThrow(() ->
                new IllegalArgumentException(dir + " has no checkpoint yet: the run did not finish a step"));
        Checkpoints.Loaded loaded = Checkpoints.load(cp);
        Tokenizer tokenizer = tokenizer(dir, classifierJson, p);
        long seed = spec.train().seed();
        Model model;
        if (spec.mode() == FineTuneSpec.Mode.LORA) {
            model = BaseModel.recorded(json(dir.resolve("base.json")), dir.resolve("base.json")).load(p, be);
        } else {
            model = p.model(String.valueOf(modelSection.get("name"))).create(be, TrainSpec.providerKeys(modelSection),
                    seed);
        }
        Adapter adapter = null;
        Classifier c = null;
        try {
            if (spec.mode() == FineTuneSpec.Mode.LORA) {
                adapter = p.adapter("lora").create(be, model.parameters(), spec.lora(), seed);
            }
            c = new Classifier(be, model, adapter, labels(classifierJson, dir.resolve("classifier.json")).size(), seed);
            adapter = null;
            Checkpoints.toDevice(loaded.model().tensors(), FineTuneRun.saved(spec.mode(), c),
                    cp.resolve("model.safetensors").toString());
            return new TrainedClassifier(dir, be, c, tokenizer, classifierJson, spec, loaded.step());
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                c.close();
            } else {
                if (adapter != null) {
                    adapter.close();
                }
                model.close();
            }
            throw e;
        }
    }

    private static TrainedClassifier merged(Path dir, Map<String, Object> classifierJson, Providers p,
                                            String backendName) throws IOException {
        BaseModel base = BaseModel.latest(dir);
        ComputeBackend be = p.backend(backendName != null ? backendName : base.spec().backendName());
        Tokenizer tokenizer = base.tokenizer(p);
        Model model = base.load(p, be);
        Classifier c = null;
        try {
            c = new Classifier(be, model, null, labels(classifierJson, dir.resolve("classifier.json")).size(), 0);
            Path headFile = dir.resolve("classifier.safetensors");
            if (!Files.isRegularFile(headFile)) {
                throw new CheckpointException(headFile + ": missing");
            }
            Checkpoints.toDevice(SafeTensors.read(headFile).tensors(), c.head(), headFile.toString());
            return new TrainedClassifier(dir, be, c, tokenizer, classifierJson, null, base.step());
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                c.close();
            } else {
                model.close();
            }
            throw e;
        }
    }

    List<String> labels() {
        return labels;
    }

    Classifier classifier() {
        return classifier;
    }

    /** Probabilities per text, in order; labelled texts must carry one of this classifier's labels. */
    FineTuner.Scores score(List<ClassificationExample> texts, Path file) {
        if (merged) {
            throw new IllegalStateException("the adapter was merged into the weights: this classifier is spent");
        }
        TextSet set = TextSet.encode(texts, tokenizer, maxTokens, labels, file, "the classes this model predicts");
        return FineTuner.score(backend, classifier, set, 16, pooling);
    }

    /** One prediction as the command line prints it: the label and every class's probability. */
    Map<String, Object> prediction(float[] probabilities) {
        int best = 0;
        for (int k = 1; k < probabilities.length; k++) {
            if (probabilities[k] > probabilities[best]) {
                best = k;
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", labels.get(best));
        Map<String, Object> probs = new LinkedHashMap<>();
        for (int k = 0; k < labels.size(); k++) {
            probs.put(labels.get(k), Math.round(probabilities[k] * 1e6) / 1e6);
        }
        m.put("probabilities", probs);
        return m;
    }

    /**
     * Folds the LoRA adapter into the base weights and writes {@code out}: a pre-training run
     * folder (the base run's spec.json, tokenizer.json and one checkpoint of the merged weights,
     * with an empty optimizer state), so it loads as a plain GPT, plus the head
     * ({@code classifier.json}, {@code classifier.safetensors}) and {@code merged.json}.
     */
    Map<String, Object> writeMerged(Path out) throws IOException {
        if (spec == null || spec.mode() != FineTuneSpec.Mode.LORA) {
            throw new IllegalArgumentException(dir + " is not a LoRA fine-tuning run (mode "
                    + (spec == null ? "merged" : spec.mode().name().toLowerCase(Locale.ROOT))
                    + "); only a LoRA run has an adapter to merge");
        }
        if (Files.exists(out.resolve("spec.json"))) {
            throw new IllegalArgumentException(out + " already holds a run; choose another --out");
        }
        Map<String, Object> baseJson = json(dir.resolve("base.json"));
        BaseModel base = BaseModel.recorded(baseJson, dir.resolve("base.json"));
        Adapter adapter = classifier.adapter();
        Map<String, Object> adapterConfig = adapter.config();
        adapter.merge(classifier.model().parameters());
        merged = true;

        Files.createDirectories(out);
        Files.copy(base.run().resolve("spec.json"), out.resolve("spec.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve("tokenizer.json"), out.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve("classifier.json"), out.resolve("classifier.json"), StandardCopyOption.REPLACE_EXISTING);
        SafeTensors.write(out.resolve("classifier.safetensors"), Checkpoints.toHost(classifier.head()),
                Map.of("format", "cornerstone-classifier-head"));
        Map<String, Object> merged = new LinkedHashMap<>();
        merged.put("merged_from", dir.toString());
        merged.put("step", step);
        merged.put("base", baseJson);
        merged.put("adapter", adapterConfig);
        merged.put("adapted_parameters", new ArrayList<>(adapter.parameters().keySet()));
        merged.put("formula", "W + alpha / rank * B A for every adapted Linear layer W, W + alpha / rank * A B^T for "
                + "every adapted embedding table; a base parameter trained as it is (lora.train_also, X.trained.Y in the "
                + "adapter) replaced by its trained value first");
        Files.writeString(out.resolve("merged.json"), Json.write(merged, true));
        Map<String, Object> trainer = new LinkedHashMap<>();
        trainer.put("step", step);
        trainer.put("data_position", 0L);
        trainer.put("seed", base.spec().train().seed());
        trainer.put("merged", merged);
        trainer.put("spec", base.spec().toMap());
        Path cp = Checkpoints.save(out.resolve("checkpoints"), step, classifier.model().parameters(),
                new LinkedHashMap<>(), trainer);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("out", out.toString());
        r.put("checkpoint", cp.toString());
        r.put("merged_parameters", adapter.parameters().keySet().stream()
                .filter(n -> n.endsWith(".lora_A.weight") || n.endsWith(".lora_embedding_A.weight")).count());
        return r;
    }

    @Override
    public void close() {
        classifier.close();
    }
}
