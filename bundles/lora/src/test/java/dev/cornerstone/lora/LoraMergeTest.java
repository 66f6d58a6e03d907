package dev.cornerstone.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.testkit.Tolerances;
import org.junit.jupiter.api.Test;

/**
 * Merging on a real GPT: the merged weights equal base + (alpha / r) · B A, computed here in
 * double precision; untouched parameters stay bit-identical; and the merged model alone gives
 * the logits that base and adapter gave together.
 */
class LoraMergeTest {

    static final Map<String, Object> GPT = Map.of("n_layer", 2, "n_head", 2, "n_embd", 16, "block_size", 8,
            "vocab_size", 11);

    static float[] read(Tensor t) {
        float[] v = new float[(int) t.size()];
        t.backend().read(t, 0, v, 0, v.length);
        return v;
    }

    static float[] logits(CpuBackend be, Model model, Adapter adapter, Tensor ids) {
        try (Tape tape = new Tape(be)) {
            Graph g = Graph.inference(be, tape);
            Var out = model.forward(adapter == null ? g : adapter.apply(g), ids);
            return read(out.value());
        }
    }

    @Test
    void mergedWeightsAreBasePlusScaledBTimesAAndGiveTheSameLogits() {
        try (CpuBackend be = new CpuBackend(2);
             Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), Map.of("rank", 4, "alpha", 8,
                     "dropout", 0.1, "target_modules", List.of("h.*.attn.c_attn", "h.1.mlp.c_fc")), 5);
             Tensor ids = be.allocate(Shape.of(2, 8), DType.I32)) {
            assertThat(lora.parameters().keySet()).containsExactly(
                    "h.0.attn.c_attn.lora_A.weight", "h.0.attn.c_attn.lora_B.weight",
                    "h.1.attn.c_attn.lora_A.weight", "h.1.attn.c_attn.lora_B.weight",
                    "h.1.mlp.c_fc.lora_A.weight", "h.1.mlp.c_fc.lora_B.weight");
            be.writeInts(ids, 0, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 0, 3, 3, 2, 1, 4}, 0, 16);
            float[] before = logits(be, model, null, ids);
            assertThat(logits(be, model, lora, ids)).as("B starts at zero: the adapted model starts as the base")
                    .isEqualTo(before);
            SplittableRandom rnd = new SplittableRandom(11);
            for (var e : lora.parameters().entrySet()) {
                float[] v = new float[(int) e.getValue().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextDouble() - 0.5);
                }
                be.write(e.getValue(), 0, v, 0, v.length);
            }
            float[] adapted = logits(be, model, lora, ids);
            assertThat(adapted).isNotEqualTo(before);

            Map<String, float[]> base = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> base.put(k, read(v)));
            lora.merge(model.parameters());

            double scale = 8.0 / 4;
            for (var e : model.parameters().entrySet()) {
                String name = e.getKey();
                float[] merged = read(e.getValue());
                String module = name.substring(0, name.length() - ".weight".length());
                if (!lora.parameters().containsKey(module + ".lora_A.weight")) {
                    assertThat(merged).as(name + " is not adapted: unchanged").isEqualTo(base.get(name));
                    continue;
                }
                float[] a = read(lora.parameters().get(module + ".lora_A.weight"));
                float[] b = read(lora.parameters().get(module + ".lora_B.weight"));
                int out = e.getValue().shape().dim(0), in = e.getValue().shape().dim(1), r = 4;
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        double ba = 0;
                        for (int k = 0; k < r; k++) {
                            ba += (double) b[o * r + k] * a[k * in + i];
                        }
                        double expected = base.get(name)[o * in + i] + scale * ba;
                        assertThat(Tolerances.close(merged[o * in + i], expected, Tolerances.F32_ACCUMULATED, 1e-6))
                                .as(name + "[" + o + ", " + i + "]: " + merged[o * in + i] + " vs " + expected).isTrue();
                    }
                }
            }
            float[] mergedLogits = logits(be, model, null, ids);
            for (int i = 0; i < adapted.length; i++) {
                assertThat(Tolerances.close(mergedLogits[i], adapted[i], Tolerances.F32_ACCUMULATED, 1e-5))
                        .as("logit " + i + ": merged " + mergedLogits[i] + ", adapted " + adapted[i]).isTrue();
            }
        }
    }

    @Test
    void trainAlsoHoldsTrainedCopiesThatTheForwardPassReadsAndMergeWritesOverTheBase() {
        try (CpuBackend be = new CpuBackend(2);
             Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), Map.of("rank", 2, "alpha", 4,
                     "target_modules", List.of("h.*.attn.c_attn"),
                     "train_also", List.of("h.*.ln_*", "ln_f", "h.*.*.*.bias", "h.1.attn.c_attn.weight")), 5);
             Tensor ids = be.allocate(Shape.of(2, 8), DType.I32)) {
            Map<String, String> copies = new LinkedHashMap<>();   // base name -> copy name
            for (String name : model.parameters().keySet()) {
                boolean trained = name.matches("h\\.\\d\\.ln_\\d\\..*|ln_f\\..*|h\\.\\d\\.\\w+\\.\\w+\\.bias")
                        || name.equals("h.1.attn.c_attn.weight");
                if (trained) {
                    copies.put(name, name.substring(0, name.lastIndexOf('.')) + ".trained"
                            + name.substring(name.lastIndexOf('.')));
                }
            }
            assertThat(copies).containsEntry("h.0.ln_1.weight", "h.0.ln_1.trained.weight")
                    .containsEntry("ln_f.bias", "ln_f.trained.bias")
                    .containsEntry("h.1.mlp.c_proj.bias", "h.1.mlp.c_proj.trained.bias")
                    .doesNotContainKey("h.0.attn.c_attn.weight").hasSize(2 * 4 + 2 + 2 * 4 + 1);
            assertThat(lora.parameters().keySet()).containsAll(copies.values())
                    .hasSize(copies.size() + 2 * 2);
            long expectedCount = 2 * (2 * 16 + 48 * 2);
            for (String base : copies.keySet()) {
                expectedCount += model.parameters().get(base).size();
                assertThat(read(lora.parameters().get(copies.get(base)))).as(copies.get(base) + " starts as the base")
                        .isEqualTo(read(model.parameters().get(base)));
            }
            assertThat(lora.parameters().values().stream().mapToLong(Tensor::size).sum()).isEqualTo(expectedCount);
            assertThat(lora.config()).containsEntry("train_also",
                    List.of("h.*.ln_*", "ln_f", "h.*.*.*.bias", "h.1.attn.c_attn.weight"));

            be.writeInts(ids, 0, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 0, 3, 3, 2, 1, 4}, 0, 16);
            float[] before = logits(be, model, null, ids);
            assertThat(logits(be, model, lora, ids)).as("copies equal the base, B is zero").isEqualTo(before);
            SplittableRandom rnd = new SplittableRandom(13);
            for (var e : lora.parameters().entrySet()) {
                float[] v = read(e.getValue());
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (rnd.nextDouble() - 0.5) * 0.5f;
                }
                be.write(e.getValue(), 0, v, 0, v.length);
            }
            float[] adapted = logits(be, model, lora, ids);
            assertThat(adapted).isNotEqualTo(before);
            Map<String, float[]> base = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> base.put(k, read(v)));

            lora.merge(model.parameters());
            for (var e : model.parameters().entrySet()) {
                String name = e.getKey();
                float[] merged = read(e.getValue());
                String module = name.substring(0, name.length() - ".weight".length());
                float[] w = copies.containsKey(name) ? read(lora.parameters().get(copies.get(name))) : base.get(name);
                if (!lora.parameters().containsKey(module + ".lora_A.weight")) {
                    assertThat(merged).as(name + ": its trained copy, or the base untouched").isEqualTo(w);
                    continue;
                }
                float[] a = read(lora.parameters().get(module + ".lora_A.weight"));
                float[] b = read(lora.parameters().get(module + ".lora_B.weight"));
                int out = e.getValue().shape().dim(0), in = e.getValue().shape().dim(1), r = 2;
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        double ba = 0;
                        for (int k = 0; k < r; k++) {
                            ba += (double) b[o * r + k] * a[k * in + i];
                        }
                        double expected = w[o * in + i] + 2.0 * ba;
                        assertThat(Tolerances.close(merged[o * in + i], expected, Tolerances.F32_ACCUMULATED, 1e-6))
                                .as(name + "[" + o + ", " + i + "]: " + merged[o * in + i] + " vs " + expected).isTrue();
                    }
                }
            }
            float[] mergedLogits = logits(be, model, null, ids);
            for (int i = 0; i < adapted.length; i++) {
                assertThat(Tolerances.close(mergedLogits[i], adapted[i], Tolerances.F32_ACCUMULATED, 1e-5))
                        .as("logit " + i + ": merged " + mergedLogits[i] + ", adapted " + adapted[i]).isTrue();
            }
        }
    }

    static float[] hidden(CpuBackend be, Model model, Adapter adapter, Tensor ids) {
        try (Tape tape = new Tape(be)) {
            Graph g = Graph.inference(be, tape);
            Var out = ((dev.cornerstone.api.model.HiddenStates) model).hiddenStates(adapter == null ? g : adapter.apply(g),
                    ids);
            return read(out.value());
        }
    }

    @Test
    void anAdaptedEmbeddingTableMergesIntoBasePlusScaledATimesBTransposed() {
        try (CpuBackend be = new CpuBackend(2);
             Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), Map.of("rank", 2, "alpha", 6,
                     "target_modules", "h.0.mlp.c_fc", "target_embeddings", List.of("wte", "wpe")), 5);
             Tensor ids = be.allocate(Shape.of(2, 8), DType.I32)) {
            assertThat(lora.parameters().keySet()).containsExactly(
                    "wte.lora_embedding_A.weight", "wte.lora_embedding_B.weight",
                    "wpe.lora_embedding_A.weight", "wpe.lora_embedding_B.weight",
                    "h.0.mlp.c_fc.lora_A.weight", "h.0.mlp.c_fc.lora_B.weight");
            assertThat(lora.parameters().get("wte.lora_embedding_A.weight").shape()).isEqualTo(Shape.of(11, 2));
            assertThat(lora.parameters().get("wte.lora_embedding_B.weight").shape()).isEqualTo(Shape.of(16, 2));
            assertThat(read(lora.parameters().get("wte.lora_embedding_A.weight"))).containsOnly(0f);
            be.writeInts(ids, 0, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 0, 3, 3, 2, 1, 4}, 0, 16);
            float[] before = hidden(be, model, null, ids);
            assertThat(hidden(be, model, lora, ids)).as("A starts at zero: the adapted model starts as the base")
                    .isEqualTo(before);
            SplittableRandom rnd = new SplittableRandom(17);
            for (var e : lora.parameters().entrySet()) {
                float[] v = new float[(int) e.getValue().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextDouble() - 0.5) * 0.3f;
                }
                be.write(e.getValue(), 0, v, 0, v.length);
            }
            float[] adapted = hidden(be, model, lora, ids);
            assertThat(adapted).isNotEqualTo(before);
            Map<String, float[]> base = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> base.put(k, read(v)));

            lora.merge(model.parameters());
            for (String table : List.of("wte", "wpe")) {
                float[] merged = read(model.parameters().get(table + ".weight"));
                float[] a = read(lora.parameters().get(table + ".lora_embedding_A.weight"));   // (V, r)
                float[] b = read(lora.parameters().get(table + ".lora_embedding_B.weight"));   // (C, r)
                int v = model.parameters().get(table + ".weight").shape().dim(0), c = 16;
                for (int o = 0; o < v; o++) {
                    for (int i = 0; i < c; i++) {
                        double ab = (double) a[o * 2] * b[i * 2] + (double) a[o * 2 + 1] * b[i * 2 + 1];
                        double expected = base.get(table + ".weight")[o * c + i] + 3.0 * ab;
                        assertThat(Tolerances.close(merged[o * c + i], expected, Tolerances.F32_ACCUMULATED, 1e-6))
                                .as(table + "[" + o + ", " + i + "]: " + merged[o * c + i] + " vs " + expected).isTrue();
                    }
                }
            }
            assertThat(read(model.parameters().get("h.0.attn.c_attn.weight"))).isEqualTo(base.get("h.0.attn.c_attn.weight"));
            float[] mergedHidden = hidden(be, model, null, ids);
            for (int i = 0; i < adapted.length; i++) {
                assertThat(Tolerances.close(mergedHidden[i], adapted[i], Tolerances.F32_ACCUMULATED, 1e-5))
                        .as("hidden " + i + ": merged " + mergedHidden[i] + ", adapted " + adapted[i]).isTrue();
            }
        }
    }

    @Test
    void itsConfigMakesTheSameAdapterAgain() {
        try (CpuBackend be = new CpuBackend(2); Model model = new GptProvider().create(be, GPT, 3);
             Adapter first = new LoraProvider().create(be, model.parameters(), Map.of("rank", 2,
                     "target_modules", "h.0.mlp"), 5);
             Adapter again = new LoraProvider().create(be, model.parameters(), first.config(), 5)) {
            assertThat(first.config()).containsEntry("rank", 2).containsEntry("alpha", 16.0)
                    .containsEntry("train_also", List.of()).containsEntry("target_embeddings", List.of())
                    .containsEntry("dropout", 0.0).containsEntry("target_modules", List.of("h.0.mlp"))
                    .containsEntry("lr_ratio_b", 1.0);
            assertThat(again.parameters().keySet()).containsExactlyElementsOf(first.parameters().keySet())
                    .containsExactly("h.0.mlp.c_fc.lora_A.weight", "h.0.mlp.c_fc.lora_B.weight",
                            "h.0.mlp.c_proj.lora_A.weight", "h.0.mlp.c_proj.lora_B.weight");
            for (String name : first.parameters().keySet()) {
                assertThat(read(again.parameters().get(name))).as(name + ": same seed, same initialisation")
                        .isEqualTo(read(first.parameters().get(name)));
            }
            assertThat(read(first.parameters().get("h.0.mlp.c_fc.lora_B.weight"))).containsOnly(0f);
        }
    }

    @Test
    void rankAndAlphaPatternsGiveTheLayersTheyNameTheirOwnRankAndScale() {
        Map<String, Object> cfg = new LinkedHashMap<>(Map.of("rank", 2, "alpha", 4, "target_modules",
                List.of("h.*.attn.c_attn"), "target_embeddings", List.of("wte", "wpe")));
        cfg.put("rank_pattern", new LinkedHashMap<>(Map.of("wpe", 8, "h.1", 3)));
        cfg.put("alpha_pattern", Map.of("wpe", 2));
        try (CpuBackend be = new CpuBackend(2);
             Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), cfg, 5);
             Adapter again = new LoraProvider().create(be, model.parameters(), lora.config(), 5);
             Tensor ids = be.allocate(Shape.of(2, 8), DType.I32)) {
            Map<String, Shape> shapes = new LinkedHashMap<>();
            lora.parameters().forEach((k, v) -> shapes.put(k, v.shape()));
            assertThat(shapes).containsEntry("wte.lora_embedding_A.weight", Shape.of(11, 2))
                    .containsEntry("wpe.lora_embedding_A.weight", Shape.of(8, 8))
                    .containsEntry("wpe.lora_embedding_B.weight", Shape.of(16, 8))
                    .containsEntry("h.0.attn.c_attn.lora_A.weight", Shape.of(2, 16))
                    .containsEntry("h.1.attn.c_attn.lora_A.weight", Shape.of(3, 16))
                    .containsEntry("h.1.attn.c_attn.lora_B.weight", Shape.of(48, 3));
            assertThat(lora.config()).containsEntry("rank_pattern", Map.of("wpe", 8, "h.1", 3))
                    .containsEntry("alpha_pattern", Map.of("wpe", 2.0));
            again.parameters().forEach((k, v) -> assertThat(v.shape()).as(k + ", made again from config()")
                    .isEqualTo(shapes.get(k)));
            be.writeInts(ids, 0, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 0, 3, 3, 2, 1, 4}, 0, 16);
            SplittableRandom rnd = new SplittableRandom(23);
            for (var e : lora.parameters().entrySet()) {
                float[] v = new float[(int) e.getValue().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextDouble() - 0.5) * 0.3f;
                }
                be.write(e.getValue(), 0, v, 0, v.length);
            }
            float[] adapted = hidden(be, model, lora, ids);   // wte is tied to the language-model head: no logits
            Map<String, float[]> base = new LinkedHashMap<>();
            model.parameters().forEach((k, v) -> base.put(k, read(v)));
            lora.merge(model.parameters());
            // wpe: rank 8, alpha 2 (scale 0.25), A (8, 8) B (16, 8); h.1.attn.c_attn: rank 3, alpha 4 (scale 4/3)
            float[] merged = read(model.parameters().get("wpe.weight"));
            float[] a = read(lora.parameters().get("wpe.lora_embedding_A.weight"));
            float[] b = read(lora.parameters().get("wpe.lora_embedding_B.weight"));
            for (int o = 0; o < 8; o++) {
                for (int i = 0; i < 16; i++) {
                    double ab = 0;
                    for (int k = 0; k < 8; k++) {
                        ab += (double) a[o * 8 + k] * b[i * 8 + k];
                    }
                    double expected = base.get("wpe.weight")[o * 16 + i] + 0.25 * ab;
                    assertThat(Tolerances.close(merged[o * 16 + i], expected, Tolerances.F32_ACCUMULATED, 1e-6))
                            .as("wpe[" + o + ", " + i + "]: " + merged[o * 16 + i] + " vs " + expected).isTrue();
                }
            }
            merged = read(model.parameters().get("h.1.attn.c_attn.weight"));
            a = read(lora.parameters().get("h.1.attn.c_attn.lora_A.weight"));   // (3, 16)
            b = read(lora.parameters().get("h.1.attn.c_attn.lora_B.weight"));   // (48, 3)
            for (int o = 0; o < 48; o++) {
                for (int i = 0; i < 16; i++) {
                    double ba = 0;
                    for (int k = 0; k < 3; k++) {
                        ba += (double) b[o * 3 + k] * a[k * 16 + i];
                    }
                    double expected = base.get("h.1.attn.c_attn.weight")[o * 16 + i] + 4.0 / 3 * ba;
                    assertThat(Tolerances.close(merged[o * 16 + i], expected, Tolerances.F32_ACCUMULATED, 1e-6))
                            .as("h.1.attn.c_attn[" + o + ", " + i + "]: " + merged[o * 16 + i] + " vs " + expected)
                            .isTrue();
                }
            }
            float[] mergedHidden = hidden(be, model, null, ids);
            for (int i = 0; i < adapted.length; i++) {
                assertThat(Tolerances.close(mergedHidden[i], adapted[i], Tolerances.F32_ACCUMULATED, 1e-5))
                        .as("hidden " + i + ": merged " + mergedHidden[i] + ", adapted " + adapted[i]).isTrue();
            }
        }
    }

    @Test
    void lrRatioBScalesTheRateOfTheLinearLayersBOnlyAndLrRatioTrainAlsoThatOfTheCopies() {
        try (CpuBackend be = new CpuBackend(2); Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), Map.of("rank", 2,
                     "target_modules", "h.*.attn.c_attn", "target_embeddings", "wte", "train_also", "ln_f",
                     "lr_ratio_b", 8, "lr_ratio_train_also", 0.1), 5);
             Adapter plain = new LoraProvider().create(be, model.parameters(), Map.of("rank", 2,
                     "target_modules", "h.*.attn.c_attn"), 5)) {
            assertThat(lora.config()).containsEntry("lr_ratio_b", 8.0);
            Map<String, Double> scales = new LinkedHashMap<>();
            lora.parameters().keySet().forEach(n -> scales.put(n, lora.learningRateScale(n)));
            assertThat(scales).containsEntry("h.0.attn.c_attn.lora_B.weight", 8.0)
                    .containsEntry("h.1.attn.c_attn.lora_B.weight", 8.0)
                    .containsEntry("h.0.attn.c_attn.lora_A.weight", 1.0)
                    .containsEntry("wte.lora_embedding_A.weight", 1.0).containsEntry("wte.lora_embedding_B.weight", 1.0)
                    .containsEntry("ln_f.trained.weight", 0.1).containsEntry("ln_f.trained.bias", 0.1);
            assertThat(plain.parameters().keySet()).allSatisfy(n -> assertThat(plain.learningRateScale(n))
                    .as(n + " without lr_ratio_b").isEqualTo(1.0));
        }
    }

    @Test
    void badSettingsAreRefusedNamingTheKey() {
        try (CpuBackend be = new CpuBackend(2); Model model = new GptProvider().create(be, GPT, 3)) {
            LoraProvider p = new LoraProvider();
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("rank", 0), 1))
                    .hasMessageContaining("lora.rank: 0 is not allowed");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("r", 4), 1))
                    .hasMessageContaining("lora.r is not a known key").hasMessageContaining("rank");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("dropout", 1.0), 1))
                    .hasMessageContaining("lora.dropout: 1.0 is not allowed");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("target_modules", List.of("h.*.atn")), 1))
                    .hasMessageContaining("lora.target_modules: 'h.*.atn' matches nothing")
                    .hasMessageContaining("h.0.attn.c_attn");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("target_modules", List.of()), 1))
                    .hasMessageContaining("lora.target_modules: an empty list adapts nothing");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("train_also", List.of("h.*.ln_3")), 1))
                    .hasMessageContaining("lora.train_also: 'h.*.ln_3' matches nothing")
                    .hasMessageContaining("h.0.ln_1.weight");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("target_embeddings", "wtx"), 1))
                    .hasMessageContaining("lora.target_embeddings: 'wtx' matches nothing");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("target_modules", "wte",
                    "target_embeddings", "wte"), 1))
                    .hasMessageContaining("lora.target_embeddings: wte is also named by lora.target_modules");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("train_also", List.of("h.(0)")), 1))
                    .hasMessageContaining("lora.train_also: 'h.(0)' is not a name pattern");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("lr_ratio_b", 0), 1))
                    .hasMessageContaining("lora.lr_ratio_b: 0.0 is not allowed");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("lr_ratio_b", "fast"), 1))
                    .hasMessageContaining("lora.lr_ratio_b");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("lr_ratio_train_also", -1), 1))
                    .hasMessageContaining("lora.lr_ratio_train_also: -1");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("rank_pattern", Map.of("h.0", 0)), 1))
                    .hasMessageContaining("lora.rank_pattern.h.0: 0 is not allowed");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("rank_pattern", 8), 1))
                    .hasMessageContaining("lora.rank_pattern: 8 is not allowed");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("rank_pattern", Map.of("wpe", 8)), 1))
                    .as("wpe is not adapted").hasMessageContaining("lora.rank_pattern: 'wpe' matches nothing");
            assertThatThrownBy(() -> p.create(be, model.parameters(), Map.of("alpha_pattern", Map.of("h.(0)", 2)), 1))
                    .hasMessageContaining("lora.alpha_pattern: 'h.(0)' is not a name pattern");
            assertThat(be.liveTensors()).as("a refused adapter leaves nothing behind").isEqualTo(
                    model.parameters().size());
        }
    }

    @Test
    void anEmbeddingTableCannotBeAdapted() {
        try (CpuBackend be = new CpuBackend(2); Model model = new GptProvider().create(be, GPT, 3);
             Adapter lora = new LoraProvider().create(be, model.parameters(), Map.of("target_modules", "wte"), 1);
             Tensor ids = be.allocate(Shape.of(1, 4), DType.I32)) {
            assertThatThrownBy(() -> logits(be, model, lora, ids))
                    .hasMessageContaining("lora.target_modules: wte is used as an embedding table");
        }
    }
}
