package dev.cornerstone.lora;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SequencedMap;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.nn.NamePattern;

/**
 * LoRA (Hu et al. 2021): a Linear layer {@code y = x W^T + b} with frozen W (OC, C) becomes
 *
 * <pre>
 * y = x W^T + b + (alpha / r) · dropout(x) A^T B^T      A (r, C), B (OC, r)
 * </pre>
 *
 * so the update of W is the rank-r product {@code (alpha / r) B A}. A starts uniform in
 * ±1/sqrt(C) (PyTorch's Linear init, as PEFT) and B at zero: the adapted model starts exactly
 * as the base. Parameters are named as PEFT names them, under the adapted module:
 * {@code h.0.attn.c_attn.lora_A.weight} and {@code h.0.attn.c_attn.lora_B.weight}.
 *
 * <p>An adapted layer is found by its weight: every parameter {@code <module>.weight} of rank 2
 * whose module a target pattern matches. {@link #merge} folds {@code (alpha / r) B A} into W.
 *
 * <p>An embedding table W (V, C) that a {@code target_embeddings} pattern names gets the same kind
 * of update in the layout of PEFT's embedding LoRA: {@code W + (alpha / r) A B^T} with A (V, r),
 * starting at zero, and B (C, r), starting uniform in ±1/sqrt(C) (PEFT: standard normal); a lookup of ids gives
 * {@code W[ids] + (alpha / r) A[ids] B^T}. The names are {@code wte.lora_embedding_A.weight} and
 * {@code wte.lora_embedding_B.weight}.
 *
 * <p>A base parameter that a {@code train_also} pattern matches (a LayerNorm, a bias) trains as it
 * is: the adapter holds a copy, starting equal to the base's, named with {@code trained} before
 * its last segment ({@code h.0.ln_1.weight} → {@code h.0.ln_1.trained.weight}), and the forward
 * pass reads the copy wherever the model asks for the base's; the base itself stays fixed.
 * {@link #merge} writes the copies over the base's values before it adds {@code (alpha / r) B A}.
 */
final class LoraAdapter implements Adapter {

    /**
     * One adapted Linear layer, A (r, in) and B (out, r), or embedding table ({@code embedding}),
     * A (out, r) and B (in, r), whose weight is (out, in); its update is {@code scale} (alpha / r) B A.
     */
    record Module(String name, String weightName, String aName, String bName, Tensor a, Tensor b, int in, int out,
                  boolean embedding, int rank, float scale) {
    }

    /** A base parameter that trains as it is: its trained copy. */
    record Trained(String baseName, String name, Tensor value) {
    }

    private final ComputeBackend backend;
    private final LoraConfig config;
    private final List<Module> modules = new ArrayList<>();
    private final Map<String, Trained> trained = new LinkedHashMap<>();
    private final SequencedMap<String, Tensor> params = new LinkedHashMap<>();

    LoraAdapter(ComputeBackend backend, SequencedMap<String, Tensor> modelParameters, LoraConfig config, long seed) {
        this.backend = backend;
        this.config = config;
        List<String> linearModules = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : modelParameters.entrySet()) {
            if (e.getKey().endsWith(".weight") && e.getValue().shape().rank() == 2) {
                linearModules.add(e.getKey().substring(0, e.getKey().length() - ".weight".length()));
            }
        }
        NamePattern.requireEachMatches(LoraConfig.SECTION + ".target_modules", config.targetModules(), linearModules);
        NamePattern.requireEachMatches(LoraConfig.SECTION + ".target_embeddings", config.targetEmbeddings(),
                linearModules);
        for (String m : linearModules) {
            if (NamePattern.any(config.targetModules(), m) && NamePattern.any(config.targetEmbeddings(), m)) {
                throw new IllegalArgumentException(LoraConfig.SECTION + ".target_embeddings: " + m + " is also named by "
                        + LoraConfig.SECTION + ".target_modules; a weight is adapted either as a Linear layer or as an "
                        + "embedding table");
            }
        }
        NamePattern.requireEachMatches(LoraConfig.SECTION + ".train_also", config.trainAlso(), modelParameters.keySet());
        List<String> adaptedModules = linearModules.stream().filter(m -> NamePattern.any(config.targetModules(), m)
                || NamePattern.any(config.targetEmbeddings(), m)).toList();
        NamePattern.requireEachMatches(LoraConfig.SECTION + ".rank_pattern", List.copyOf(config.rankPattern().keySet()),
                adaptedModules);
        NamePattern.requireEachMatches(LoraConfig.SECTION + ".alpha_pattern",
                List.copyOf(config.alphaPattern().keySet()), adaptedModules);
        Random rng = new Random(seed);
        try {
            for (String m : linearModules) {
                if (NamePattern.any(config.targetEmbeddings(), m)) {
                    addEmbedding(m, modelParameters.get(m + ".weight").shape(), rng);
                    continue;
                }
                if (!NamePattern.any(config.targetModules(), m)) {
                    continue;
                }
                Shape w = modelParameters.get(m + ".weight").shape();
                int out = w.dim(0), in = w.dim(1), r = config.rank(m);
                Tensor a = backend.allocate(Shape.of(r, in), DType.F32);   // (r, C)
                Tensor b = backend.allocate(Shape.of(out, r), DType.F32);  // (OC, r), zero
                float[] init = new float[r * in];
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < init.length; i++) {
                    init[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
                backend.write(a, 0, init, 0, init.length);
                Module mod = new Module(m, m + ".weight", m + ".lora_A.weight", m + ".lora_B.weight", a, b, in, out,
                        false, r, config.scale(m));
                modules.add(mod);
                params.put(mod.aName(), a);
                params.put(mod.bName(), b);
            }
            for (Map.Entry<String, Tensor> e : modelParameters.entrySet()) {
                if (!NamePattern.any(config.trainAlso(), e.getKey())) {
                    continue;
                }
                Tensor base = e.getValue();
                Tensor copy = backend.allocate(base.shape(), base.dtype());
                Trained t = new Trained(e.getKey(), trainedName(e.getKey()), copy);
                trained.put(t.baseName(), t);
                params.put(t.name(), copy);
                backend.copy(base, copy);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Embedding table {@code m} (V, C): A (V, r) at zero, B (C, r) uniform in ±1/sqrt(C), as a
     * Linear layer's A: a step of A then changes the table as much as a step of B changes a Linear
     * weight. (PEFT starts B standard normal: with it, on the spam example, the table moved about
     * 20 times as fast and held-out F1 fell.)
     */
    private void addEmbedding(String m, Shape w, Random rng) {
        int out = w.dim(0), in = w.dim(1), r = config.rank(m);
        Tensor a = backend.allocate(Shape.of(out, r), DType.F32);   // (V, r), zero
        params.put(m + ".lora_embedding_A.weight", a);
        Tensor b = backend.allocate(Shape.of(in, r), DType.F32);    // (C, r)
        params.put(m + ".lora_embedding_B.weight", b);
        float[] init = new float[in * r];
        double bound = 1 / Math.sqrt(in);
        for (int i = 0; i < init.length; i++) {
            init[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        backend.write(b, 0, init, 0, init.length);
        modules.add(new Module(m, m + ".weight", m + ".lora_embedding_A.weight", m + ".lora_embedding_B.weight", a, b,
                in, out, true, r, config.scale(m)));
    }

    List<Module> modules() {
        return modules;
    }

    /** The trained copy of base parameter {@code baseName}, or null if it is not trained. */
    Trained trained(String baseName) {
        return trained.get(baseName);
    }

    /** {@code h.0.ln_1.weight} → {@code h.0.ln_1.trained.weight}: the name of a base parameter's trained copy. */
    static String trainedName(String baseName) {
        int dot = baseName.lastIndexOf('.');
        return dot < 0 ? baseName + ".trained" : baseName.substring(0, dot) + ".trained" + baseName.substring(dot);
    }

    LoraConfig loraConfig() {
        return config;
    }

    /** The resolved {@code lora} section: what {@link LoraProvider#create} takes to make this adapter again. */
    @Override
    public Map<String, Object> config() {
        return config.toMap();
    }

    /**
     * {@code lora.lr_ratio_b} for the B of every adapted Linear layer, {@code lora.lr_ratio_train_also}
     * for the trained copies, 1 for everything else. LoRA+
     * (Hayou et al. 2024) argues from the input width: a step of A moves {@code A x} by a sum over
     * the C inputs, a step of B moves {@code B (A x)} by a sum over r, so B can take the larger
     * rate. An embedding table's input is one id (one row of A), so its adapter keeps one rate.
     */
    @Override
    public double learningRateScale(String parameter) {
        for (Module m : modules) {
            if (!m.embedding() && m.bName().equals(parameter)) {
                return config.lrRatioB();
            }
        }
        for (Trained t : trained.values()) {
            if (t.name().equals(parameter)) {
                return config.lrRatioTrainAlso();
            }
        }
        return 1.0;
    }

    @Override
    public SequencedMap<String, Tensor> parameters() {
        return Collections.unmodifiableSequencedMap(params);
    }

    @Override
    public Ops apply(Ops ops) {
        return new LoraOps(ops, this);
    }

    /**
     * Every trained copy over its base parameter, then {@code W += (alpha / r) · B (OC, r) · A (r, C)}
     * for every adapted layer.
     */
    @Override
    public void merge(SequencedMap<String, Tensor> modelParameters) {
        for (Trained t : trained.values()) {
            Tensor w = modelParameters.get(t.baseName());
            if (w == null || !w.shape().equals(t.value().shape())) {
                throw new IllegalArgumentException("lora merge: the model has no parameter " + t.baseName() + " of shape "
                        + t.value().shape() + (w == null ? "" : ", it has " + w.shape()));
            }
        }
        for (Module m : modules) {
            Tensor w = modelParameters.get(m.weightName());
            if (w == null || !w.shape().equals(Shape.of(m.out(), m.in()))) {
                throw new IllegalArgumentException("lora merge: the model has no parameter " + m.weightName() + " of shape ("
                        + m.out() + ", " + m.in() + ")" + (w == null ? "" : ", it has " + w.shape()));
            }
        }
        for (Trained t : trained.values()) {
            backend.copy(t.value(), modelParameters.get(t.baseName()));
        }
        for (Module m : modules) {
            Tensor w = modelParameters.get(m.weightName());
            if (m.embedding()) {   // W (V, C) += scale · A (V, r) · B^T (r, C)
                backend.gemm(false, true, 1, m.out(), m.in(), m.rank(), m.scale(), m.a(), 0, 0, m.b(), 0, 0,
                        1f, w, 0, 0);
            } else {
                backend.gemm(false, false, 1, m.out(), m.in(), m.rank(), m.scale(), m.b(), 0, 0, m.a(), 0, 0,
                        1f, w, 0, 0);
            }
        }
    }

    @Override
    public void close() {
        params.values().forEach(Tensor::close);
        params.clear();
        modules.clear();
        trained.clear();
    }
}
