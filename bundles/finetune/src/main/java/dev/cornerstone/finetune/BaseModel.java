package dev.cornerstone.finetune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Tokenizer;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.core.checkpoint.CheckpointException;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;

/**
 * A pre-trained model as a run folder holds it ({@code spec.json}, {@code tokenizer.json},
 * {@code checkpoints/step-NNNNNN/}): the run of {@code cornerstone train}, or a model merged by
 * {@code cornerstone lora merge}. Fine-tuning records which checkpoint it started from and the
 * SHA-256 of its weights, so a LoRA run, which keeps only its adapter, finds exactly that base
 * again and refuses one that changed.
 *
 * @param run          the run folder, absolute
 * @param checkpoint   the checkpoint folder the weights come from
 * @param step         its step
 * @param modelSha256  the SHA-256 of its {@code model.safetensors}, from its manifest
 * @param spec         the run's spec
 * @param tokenizer    the description of its tokenizer ({@code tokenizer.json})
 */
record BaseModel(Path run, Path checkpoint, int step, String modelSha256, TrainSpec spec,
                 Map<String, Object> tokenizer) {

    /** The newest checkpoint of a pre-training run. */
    static BaseModel latest(Path runDir) throws IOException {
        Path run = runDir.toAbsolutePath().normalize();
        TrainSpec spec = readSpec(run);
        Path cp = Checkpoints.latest(run.resolve("checkpoints")).orElseThrow(() ->
                new IllegalArgumentException(run + " has no checkpoint yet: train it first"));
        return at(run, spec, cp);
    }

    /** The checkpoint a fine-tuning run recorded in its {@code base.json}, checked against the SHA-256 it recorded. */
    static BaseModel recorded(Map<String, Object> baseJson, Path file) throws IOException {
        if (!(baseJson.get("run") instanceof String run) || !(baseJson.get("checkpoint") instanceof String cp)
                || !(baseJson.get("model_sha256") instanceof String sha)) {
            throw new IllegalArgumentException(file + ": expected run, checkpoint and model_sha256");
        }
        Path runDir = Path.of(run);
        BaseModel b = at(runDir, readSpec(runDir), Path.of(cp));
        if (!b.modelSha256.equals(sha)) {
            throw new IllegalArgumentException(file + ": the base model " + b.checkpoint + " has changed since "
                    + "fine-tuning (SHA-256 " + b.modelSha256 + ", recorded " + sha + "); an adapter only fits the "
                    + "weights it was trained on");
        }
        return b;
    }

    @SuppressWarnings("unchecked")
    private static TrainSpec readSpec(Path run) throws IOException {
        Path specFile = run.resolve("spec.json");
        if (!Files.isRegularFile(specFile)) {
            throw new IllegalArgumentException(run + " is not a run folder: no spec.json");
        }
        Map<String, Object> spec = (Map<String, Object>) Json.read(Files.readString(specFile), specFile.toString());
        if (spec.containsKey("finetune")) {
            throw new IllegalArgumentException(run + " is a fine-tuning run; a pre-training run is needed here (or a "
                    + "model merged by 'cornerstone lora merge')");
        }
        try {
            return TrainSpec.from(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(specFile + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static BaseModel at(Path run, TrainSpec spec, Path cp) throws IOException {
        Path manifestFile = cp.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new CheckpointException(manifestFile + ": missing; " + cp + " is not a complete checkpoint");
        }
        Map<String, Object> manifest = (Map<String, Object>) Json.read(Files.readString(manifestFile),
                manifestFile.toString());
        Object sha = manifest.get("files") instanceof Map<?, ?> files && files.get("model.safetensors") instanceof Map<?, ?> f
                ? f.get("sha256") : null;
        Object step = manifest.get("step");
        if (!(sha instanceof String s) || !(step instanceof Number n)) {
            throw new CheckpointException(manifestFile + ": no step or no SHA-256 of model.safetensors");
        }
        Path tokFile = run.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) {
            throw new IllegalArgumentException(run + " has no tokenizer.json");
        }
        Map<String, Object> tok = (Map<String, Object>) Json.read(Files.readString(tokFile), tokFile.toString());
        return new BaseModel(run, cp.toAbsolutePath().normalize(), n.intValue(), s, spec, tok);
    }

    /** The model section as the model provider takes it: the spec's, with its vocab_size. */
    Map<String, Object> modelSection() {
        return new LinkedHashMap<>(spec.model());
    }

    String datasetName() {
        return spec.dataName();
    }

    Tokenizer tokenizer(Providers p) {
        return p.dataset(datasetName()).tokenizer(tokenizer);
    }

    /** Builds the model on {@code backend} and loads this checkpoint's weights (verified against its manifest). */
    Model load(Providers p, ComputeBackend backend) throws IOException {
        Checkpoints.Loaded l = Checkpoints.load(checkpoint);
        Model model = p.model(spec.modelName()).create(backend, TrainSpec.providerKeys(spec.model()),
                spec.train().seed());
        try {
            Checkpoints.toDevice(l.model().tensors(), model.parameters(),
                    checkpoint.resolve("model.safetensors").toString());
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** What {@code base.json} of a fine-tuning run records. */
    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", run.toString());
        m.put("checkpoint", checkpoint.toString());
        m.put("step", step);
        m.put("model_sha256", modelSha256);
        return m;
    }
}
