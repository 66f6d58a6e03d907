package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.data.text.ClassificationJsonl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning on real mails (a subset of the SpamAssassin set) from a small GPT pre-trained
 * here on Moby Dick and those mails: what each mode trains and leaves alone, bit for bit; a
 * stated accuracy; and the LoRA run's save, load and merge round trip.
 */
class FineTuneTrainingTest {

    @TempDir
    static Path tmp;
    static CpuBackend be;
    static Path data;
    static Path pretrained;

    @BeforeAll
    static void pretrain() throws Exception {
        be = new CpuBackend(2);
        data = Fixtures.spamSubset(tmp.resolve("subset.jsonl"), 150, 150);
        pretrained = Fixtures.pretrain(be, tmp, data, "byte", 60);
    }

    @AfterAll
    static void close() {
        assertThat(be.liveTensors()).as("tensors leaked by the fine-tuning tests").isZero();
        be.close();
    }

    static Map<String, float[]> snapshot(Map<String, Tensor> params) {
        Map<String, float[]> m = new LinkedHashMap<>();
        params.forEach((k, t) -> {
            float[] v = new float[(int) t.size()];
            be.read(t, 0, v, 0, v.length);
            m.put(k, v);
        });
        return m;
    }

    static FineTuneRun create(Map<String, Object> spec, String name) throws Exception {
        return FineTuneRun.create(FineTuneSpec.from(spec), tmp.resolve(name), tmp, Fixtures.providers(be), Map.of());
    }

    /*
     * The stated accuracies. 300 mails, half spam, 80 of them held out: chance is 0.5, and one
     * mail moves accuracy by 0.0125. Training this small is chaotic in its last digits (a change
     * of the CPU kernels' rounding by an ulp moved the scratch run from 0.8875 to 0.825), so each
     * bar is set from the spread over seeds rather than from one measurement: train.seed 1 to 12
     * gave fine-tuning 0.7875 to 0.8875 (mean 0.85) and the scratch classifier 0.75 to 0.8875
     * (mean 0.83; the earlier bar of 0.75 had no margin left). Each bar sits 4 to 5 mails under
     * the lowest of those; a trainer that learns nothing stays near 0.5, far under either.
     */

    @Test
    void fineTuningThePreTrainedGptOnASpamSubsetReachesTheStatedAccuracy() throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "full", 150);
        ((Map<String, Object>) spec.get("finetune")).put("pooling", "mean");
        Map<String, Object> summary;
        try (FineTuneRun run = create(spec, "full")) {
            summary = run.run(p -> { });
        }
        assertThat(summary.get("validation_examples")).isEqualTo(80);
        assertThat(((Number) summary.get("accuracy")).doubleValue()).isGreaterThanOrEqualTo(0.725);
    }

    @Test
    void aScratchClassifierOnABalancedSpamSubsetReachesTheStatedAccuracy() throws Exception {
        Map<String, Object> summary;
        try (FineTuneRun run = create(Fixtures.spec(null, data, "full", 150), "scratch")) {
            summary = run.run(p -> { });
        }
        assertThat(summary.get("validation_examples")).isEqualTo(80);
        assertThat(((Number) summary.get("accuracy")).doubleValue()).isGreaterThanOrEqualTo(0.70);
    }

    @Test
    void frozenParametersStayBitIdenticalAndTheOthersTrain() throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "freeze", 8);
        ((Map<String, Object>) spec.get("finetune")).put("freeze", List.of("wte", "wpe", "h.*.attn"));
        try (FineTuneRun run = create(spec, "freeze")) {
            Map<String, float[]> before = snapshot(run.classifier().parameters());
            assertThat(run.trainableParameters().keySet()).doesNotContain("wte.weight", "wpe.weight",
                    "h.0.attn.c_attn.weight", "h.0.attn.c_proj.bias").contains("h.0.mlp.c_fc.weight",
                    "h.0.ln_1.weight", "ln_f.bias", "classifier.weight", "classifier.bias");
            run.run(p -> { });
            Map<String, float[]> after = snapshot(run.classifier().parameters());
            for (String name : before.keySet()) {
                if (run.trainableParameters().containsKey(name)) {
                    assertThat(after.get(name)).as(name + " trains").isNotEqualTo(before.get(name));
                } else {
                    assertThat(after.get(name)).as(name + " is frozen").isEqualTo(before.get(name));
                }
            }
        }
    }

    /** The change of every parameter after one step of mode full from the pre-trained GPT. */
    static Map<String, float[]> firstStepDeltas(double bodyLrScale, String name) throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "full", 1);
        ((Map<String, Object>) spec.get("finetune")).put("body_lr_scale", bodyLrScale);
        return firstStepDeltas(spec, name);
    }

    /** The change of every parameter (model, adapter, head) after the one step of {@code spec}, weight decay 0.1. */
    static Map<String, float[]> firstStepDeltas(Map<String, Object> spec, String name) throws Exception {
        ((Map<String, Object>) spec.get("optimizer")).put("weight_decay", 0.1);
        try (FineTuneRun run = create(spec, name)) {
            Map<String, float[]> before = snapshot(run.classifier().parameters());
            run.run(p -> { });
            Map<String, float[]> after = snapshot(run.classifier().parameters());
            Map<String, float[]> delta = new LinkedHashMap<>();
            before.forEach((k, b) -> {
                float[] a = after.get(k);
                float[] d = new float[b.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = a[i] - b[i];
                }
                delta.put(k, d);
            });
            return delta;
        }
    }

    @Test
    void bodyLrScaleShrinksTheBodysStepAndLeavesTheHeadsAlone() throws Exception {
        Map<String, float[]> full = firstStepDeltas(1.0, "lr-scale-1");
        Map<String, float[]> scaled = firstStepDeltas(0.25, "lr-scale-quarter");
        for (String name : full.keySet()) {
            if (name.startsWith(Classifier.HEAD + ".")) {
                // the same gradient, step count and learning rate: the same update, bit for bit
                assertThat(scaled.get(name)).as(name + ", the head, learns at lr").isEqualTo(full.get(name));
            } else {
                // AdamW's first step (moments, bias correction, decoupled decay) is linear in lr
                double num = 0, den = 0, moved = 0;
                for (int i = 0; i < full.get(name).length; i++) {
                    num += (double) scaled.get(name)[i] * full.get(name)[i];
                    den += (double) full.get(name)[i] * full.get(name)[i];
                    moved += Math.abs(full.get(name)[i]);
                }
                assertThat(moved).as(name + " trains").isGreaterThan(0);
                assertThat(num / den).as(name + ": its step relative to lr's").isCloseTo(0.25,
                        org.assertj.core.data.Offset.offset(0.01));
            }
        }
    }

    /** One LoRA step with the embeddings adapted, the body at half the head's rate, B at lr_ratio_b times A's. */
    static Map<String, float[]> firstLoraStepDeltas(double lrRatioB, String name) throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "lora", 1);
        ((Map<String, Object>) spec.get("finetune")).put("body_lr_scale", 0.5);
        spec.put("lora", new LinkedHashMap<>(Map.of("rank", 4, "alpha", 8, "target_modules",
                List.of("h.*.attn.c_attn", "h.*.mlp.c_proj"), "target_embeddings", List.of("wte"),
                "lr_ratio_b", lrRatioB)));
        return firstStepDeltas(spec, name);
    }

    @Test
    void loraPlusLrRatioBScalesTheStepOfTheLinearLayersBAndNoOtherParameters() throws Exception {
        Map<String, float[]> one = firstLoraStepDeltas(1.0, "lora-ratio-1");
        Map<String, float[]> four = firstLoraStepDeltas(4.0, "lora-ratio-4");
        assertThat(one.keySet()).contains("h.0.attn.c_attn.lora_B.weight", "h.0.mlp.c_proj.lora_A.weight",
                "wte.lora_embedding_A.weight", "classifier.weight");
        int scaled = 0;
        for (String name : one.keySet()) {
            if (name.endsWith(".lora_B.weight")) {
                // B starts at zero, so AdamW's first step on it (no decay of zero) is linear in its rate
                double num = 0, den = 0;
                for (int i = 0; i < one.get(name).length; i++) {
                    num += (double) four.get(name)[i] * one.get(name)[i];
                    den += (double) one.get(name)[i] * one.get(name)[i];
                }
                assertThat(den).as(name + " trains").isGreaterThan(0);
                assertThat(num / den).as(name + ": its step at lr_ratio_b 4 against 1").isCloseTo(4.0,
                        org.assertj.core.data.Offset.offset(1e-4));
                scaled++;
            } else {
                // A (no gradient yet: B is zero), the embedding's adapter, the head, the frozen base: as at 1
                assertThat(four.get(name)).as(name + " steps as without lr_ratio_b").isEqualTo(one.get(name));
            }
        }
        assertThat(scaled).as("c_attn and c_proj of the one block").isEqualTo(2);
        assertThat(one.get("wte.lora_embedding_A.weight")).as("the embedding's A trains at step 1")
                .isNotEqualTo(new float[one.get("wte.lora_embedding_A.weight").length]);
    }

    @Test
    void loraTrainsOnlyTheAdapterAndTheHead() throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "lora", 8);
        spec.put("lora", new LinkedHashMap<>(Map.of("rank", 4, "alpha", 8, "target_modules",
                List.of("h.*.attn.c_attn", "h.*.mlp.c_fc"))));
        try (FineTuneRun run = create(spec, "lora-only")) {
            assertThat(run.trainableParameters().keySet()).containsExactly("h.0.attn.c_attn.lora_A.weight",
                    "h.0.attn.c_attn.lora_B.weight", "h.0.mlp.c_fc.lora_A.weight", "h.0.mlp.c_fc.lora_B.weight",
                    "classifier.weight", "classifier.bias");
            Map<String, float[]> before = snapshot(run.classifier().parameters());
            run.run(p -> { });
            Map<String, float[]> after = snapshot(run.classifier().parameters());
            for (String name : before.keySet()) {
                if (run.trainableParameters().containsKey(name)) {
                    assertThat(after.get(name)).as(name + " trains").isNotEqualTo(before.get(name));
                } else {
                    assertThat(after.get(name)).as(name + " is the base: unchanged").isEqualTo(before.get(name));
                }
            }
        }
    }

    /*
     * lora.train_also: the LayerNorms and one bias train through their copies in the adapter, the
     * base stays bit for bit; the copies are counted, saved with the adapter, loaded back and
     * written over the base by a merge.
     */
    @Test
    void loraTrainAlsoTrainsCopiesOfTheNamedBaseParametersSavesLoadsAndMergesThem() throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "lora", 8);
        spec.put("lora", new LinkedHashMap<>(Map.of("rank", 4, "alpha", 8, "target_modules",
                List.of("h.*.attn.c_attn"), "train_also", List.of("h.*.ln_*", "ln_f", "h.0.mlp.c_fc.bias"))));
        Path runDir = tmp.resolve("lora-train-also");
        List<String> copies = List.of("h.0.ln_1.trained.weight", "h.0.ln_1.trained.bias", "h.0.ln_2.trained.weight",
                "h.0.ln_2.trained.bias", "ln_f.trained.weight", "ln_f.trained.bias", "h.0.mlp.c_fc.trained.bias");
        Map<String, float[]> adapter;
        float[][] inMemory;
        List<dev.cornerstone.data.text.ClassificationExample> texts = ClassificationJsonl.read(data).subList(0, 40);
        try (FineTuneRun run = create(spec, "lora-train-also")) {
            assertThat(run.trainableParameters().keySet()).containsAll(copies)
                    .contains("h.0.attn.c_attn.lora_A.weight", "classifier.weight").hasSize(copies.size() + 4);
            Map<String, float[]> before = snapshot(run.classifier().parameters());
            Map<String, Object> summary = run.run(p -> { });
            assertThat(((Number) summary.get("trainable_parameters")).longValue()).as("adapter, copies and head")
                    .isEqualTo(4L * 32 + 96L * 4 + 6 * 32 + 128 + 2 * 32 + 2);
            Map<String, float[]> after = snapshot(run.classifier().parameters());
            for (String name : before.keySet()) {
                if (run.trainableParameters().containsKey(name)) {
                    assertThat(after.get(name)).as(name + " trains").isNotEqualTo(before.get(name));
                } else {
                    assertThat(after.get(name)).as(name + " is the base: unchanged").isEqualTo(before.get(name));
                }
            }
            inMemory = FineTuner.score(be, run.classifier(), run.validation(), 16, FineTuneSpec.Pooling.LAST)
                    .probabilities();
            adapter = snapshot(run.classifier().adapter().parameters());
        }
        SafeTensors.Content saved = SafeTensors.read(runDir.resolve("adapter/adapter.safetensors"));
        assertThat(saved.tensors().keySet()).containsAll(copies).hasSize(copies.size() + 2);
        assertThat(saved.tensors().get("ln_f.trained.weight").floats()).isEqualTo(adapter.get("ln_f.trained.weight"));
        Map<?, ?> config = (Map<?, ?>) Json.read(Files.readString(runDir.resolve("adapter/adapter_config.json")), "c");
        assertThat(config.get("train_also")).isEqualTo(List.of("h.*.ln_*", "ln_f", "h.0.mlp.c_fc.bias"));

        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            float[][] again = loaded.score(dev.cornerstone.data.text.ClassificationSplit.of(
                    ClassificationJsonl.read(data), 0.25).validation(), data).probabilities();
            assertThat(again).as("loaded back with its copies: the same probabilities").isDeepEqualTo(inMemory);
        }
        float[][] before;
        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            before = loaded.score(texts, data).probabilities();
        }
        Path merged = tmp.resolve("merged-train-also");
        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            assertThat(loaded.writeMerged(merged)).containsEntry("merged_parameters", 1L);
        }
        try (var model = BaseModel.latest(merged).load(Fixtures.providers(be), be);
             var baseModel = BaseModel.latest(pretrained).load(Fixtures.providers(be), be)) {
            Map<String, float[]> base = snapshot(baseModel.parameters());
            Map<String, float[]> m = snapshot(model.parameters());
            for (String name : m.keySet()) {
                String copy = name.substring(0, name.lastIndexOf('.')) + ".trained" + name.substring(name.lastIndexOf('.'));
                if (adapter.containsKey(copy)) {
                    assertThat(m.get(name)).as(name + ": its trained value").isEqualTo(adapter.get(copy));
                } else if (!name.equals("h.0.attn.c_attn.weight")) {
                    assertThat(m.get(name)).as(name + ": the base").isEqualTo(base.get(name));
                }
            }
            float[] a = adapter.get("h.0.attn.c_attn.lora_A.weight");   // (4, 32)
            float[] b = adapter.get("h.0.attn.c_attn.lora_B.weight");   // (96, 4)
            float[] w = m.get("h.0.attn.c_attn.weight");                // (96, 32)
            for (int o = 0; o < 96; o += 5) {
                for (int i = 0; i < 32; i += 3) {
                    double ba = 0;
                    for (int k = 0; k < 4; k++) {
                        ba += (double) b[o * 4 + k] * a[k * 32 + i];
                    }
                    assertThat((double) w[o * 32 + i]).isCloseTo(base.get("h.0.attn.c_attn.weight")[o * 32 + i]
                            + 8.0 / 4 * ba, org.assertj.core.data.Offset.offset(1e-5));
                }
            }
        }
        try (TrainedClassifier fromMerged = TrainedClassifier.load(merged, Fixtures.providers(be), null)) {
            float[][] after = fromMerged.score(texts, data).probabilities();
            for (int i = 0; i < before.length; i++) {
                for (int k = 0; k < 2; k++) {
                    assertThat((double) after[i][k]).as("text " + i).isCloseTo(before[i][k],
                            org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    @Test
    void aLoraRunSavesTheAdapterAloneLoadsBackAndMergesIntoAPlainGpt() throws Exception {
        Map<String, Object> spec = Fixtures.spec(pretrained, data, "lora", 30);
        spec.put("lora", new LinkedHashMap<>(Map.of("rank", 4, "alpha", 16)));
        Path runDir = tmp.resolve("lora");
        float[][] inMemory;
        Map<String, float[]> adapter;
        List<dev.cornerstone.data.text.ClassificationExample> texts = ClassificationJsonl.read(data).subList(0, 40);
        try (FineTuneRun run = create(spec, "lora")) {
            Map<String, Object> summary = run.run(p -> { });
            assertThat(((Number) summary.get("trainable_parameters")).longValue())
                    .isEqualTo(4L * 32 + 96L * 4 + 2 * 32 + 2);
            inMemory = FineTuner.score(be, run.classifier(), run.validation(), 16, FineTuneSpec.Pooling.LAST)
                    .probabilities();
            adapter = snapshot(run.classifier().adapter().parameters());
        }
        // the adapter on its own, with its config
        SafeTensors.Content saved = SafeTensors.read(runDir.resolve("adapter/adapter.safetensors"));
        assertThat(saved.tensors().keySet()).containsExactly("h.0.attn.c_attn.lora_A.weight",
                "h.0.attn.c_attn.lora_B.weight");
        assertThat(saved.tensors().get("h.0.attn.c_attn.lora_B.weight").floats())
                .isEqualTo(adapter.get("h.0.attn.c_attn.lora_B.weight"));
        Map<?, ?> config = (Map<?, ?>) Json.read(Files.readString(runDir.resolve("adapter/adapter_config.json")), "c");
        assertThat(config.get("rank")).isEqualTo(4L);
        assertThat(config.get("target_modules")).isEqualTo(List.of("h.*.attn.c_attn"));
        assertThat(Checkpoints.load(runDir.resolve("checkpoints/step-000030")).model().tensors().keySet())
                .as("a LoRA checkpoint holds the adapter and the head, not the base")
                .containsExactly("h.0.attn.c_attn.lora_A.weight", "h.0.attn.c_attn.lora_B.weight",
                        "classifier.weight", "classifier.bias");

        // loaded back: the same probabilities
        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            float[][] again = loaded.score(dev.cornerstone.data.text.ClassificationSplit.of(
                    ClassificationJsonl.read(data), 0.25).validation(), data).probabilities();
            assertThat(again).isDeepEqualTo(inMemory);
        }

        // merged: a plain GPT run folder, plus the head; the same predictions within fp32 rounding
        float[][] before;
        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            before = loaded.score(texts, data).probabilities();
        }
        Path merged = tmp.resolve("merged");
        try (TrainedClassifier loaded = TrainedClassifier.load(runDir, Fixtures.providers(be), null)) {
            loaded.writeMerged(merged);
        }
        BaseModel plain = BaseModel.latest(merged);
        assertThat(plain.spec().modelName()).isEqualTo("gpt");
        try (var model = plain.load(Fixtures.providers(be), be);
             var baseModel = BaseModel.latest(pretrained).load(Fixtures.providers(be), be)) {
            Map<String, float[]> base = snapshot(baseModel.parameters());
            Map<String, float[]> m = snapshot(model.parameters());
            float[] a = adapter.get("h.0.attn.c_attn.lora_A.weight");   // (4, 32)
            float[] b = adapter.get("h.0.attn.c_attn.lora_B.weight");   // (96, 4)
            float[] w = m.get("h.0.attn.c_attn.weight");                // (96, 32)
            for (int o = 0; o < 96; o += 7) {
                for (int i = 0; i < 32; i += 3) {
                    double ba = 0;
                    for (int k = 0; k < 4; k++) {
                        ba += (double) b[o * 4 + k] * a[k * 32 + i];
                    }
                    assertThat((double) w[o * 32 + i]).isCloseTo(base.get("h.0.attn.c_attn.weight")[o * 32 + i]
                            + 16.0 / 4 * ba, org.assertj.core.data.Offset.offset(1e-5));
                }
            }
            assertThat(m.get("h.0.mlp.c_fc.weight")).isEqualTo(base.get("h.0.mlp.c_fc.weight"));
        }
        try (TrainedClassifier fromMerged = TrainedClassifier.load(merged, Fixtures.providers(be), null)) {
            float[][] after = fromMerged.score(texts, data).probabilities();
            for (int i = 0; i < before.length; i++) {
                for (int k = 0; k < 2; k++) {
                    assertThat((double) after[i][k]).as("text " + i).isCloseTo(before[i][k],
                            org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }
}
