package dev.cornerstone.core.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.testkit.DoubleReference;
import dev.cornerstone.testkit.GradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every differentiable op: its analytic gradients (forward and backward kernels of the CPU
 * backend, through the autograd tape) against central finite differences of the
 * double-precision reference. The loss is {@code sum(out * R)} for a fixed random R, so every
 * output element contributes.
 */
class OpGradientTest {

    static ComputeBackend be;

    @BeforeAll
    static void backend() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() throws Exception {
        assertThat(be.liveTensors()).as("tensors leaked by the gradient checks").isZero();
        ((AutoCloseable) be).close();
    }

    static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return f;
    }

    /**
     * Runs {@code op} on parameters built from {@code inputs} (named), seeds the output's
     * gradient with R, and checks each input's gradient against finite differences of
     * {@code reference} (which maps all inputs, as doubles, to the output, as doubles).
     */
    static void check(String what, Map<String, float[]> inputs, Map<String, int[]> shapes,
                      java.util.function.BiFunction<Ops, Map<String, Var>, Var> op, Function<Map<String, double[]>, double[]> reference) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (GradStore grads = new GradStore(be); Tape tape = new Tape(be)) {
            Graph g = new Graph(be, tape, grads, true, 1);
            Map<String, Var> vars = new LinkedHashMap<>();
            for (var e : inputs.entrySet()) {
                Tensor t = be.allocate(Shape.of(shapes.get(e.getKey())), DType.F32);
                be.write(t, 0, e.getValue(), 0, e.getValue().length);
                tensors.put(e.getKey(), t);
                vars.put(e.getKey(), g.param(e.getKey(), t));
            }
            Var out = op.apply(g, vars);
            float[] r = random((int) out.value().size(), 99, 1.0);
            Tensor rt = tape.allocate(out.shape(), DType.F32);
            be.write(rt, 0, r, 0, r.length);
            tape.backwardFrom(out, rt);

            double[] rd = GradCheck.toDouble(r);
            List<String> failures = new ArrayList<>();
            for (String name : inputs.keySet()) {
                float[] analytic = new float[inputs.get(name).length];
                be.read(grads.grads().get(name), 0, analytic, 0, analytic.length);
                Map<String, double[]> base = new LinkedHashMap<>();
                inputs.forEach((k, v) -> base.put(k, GradCheck.toDouble(v)));
                ToDoubleFunction<double[]> f = x -> {
                    Map<String, double[]> in = new LinkedHashMap<>(base);
                    in.put(name, x);
                    return DoubleReference.dot(reference.apply(in), rd);
                };
                for (GradCheck.Mismatch m : GradCheck.check(base.get(name), analytic, f, 60, 7)) {
                    failures.add(what + " d" + name + "[" + m.index() + "]: analytic " + m.analytic() + ", numeric "
                            + m.numeric());
                }
            }
            assertThat(failures).as(what).isEmpty();
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    @Test
    void linearWithBias() {
        int n = 7, c = 5, oc = 3;
        check("linear", Map.of("x", random(n * c, 1, 1), "w", random(oc * c, 2, 1), "b", random(oc, 3, 1)),
                Map.of("x", new int[] {n, c}, "w", new int[] {oc, c}, "b", new int[] {oc}),
                (o, v) -> o.linear(v.get("x"), v.get("w"), v.get("b")),
                d -> DoubleReference.linear(d.get("x"), d.get("w"), d.get("b"), n, c, oc));
    }

    @Test
    void linearOverBatchAndTimeWithoutBias() {
        int b = 2, t = 3, c = 4, oc = 6;
        check("linear 3d", Map.of("x", random(b * t * c, 4, 1), "w", random(oc * c, 5, 1)),
                Map.of("x", new int[] {b, t, c}, "w", new int[] {oc, c}),
                (o, v) -> o.linear(v.get("x"), v.get("w")),
                d -> DoubleReference.linear(d.get("x"), d.get("w"), null, b * t, c, oc));
    }

    @Test
    void addWithBroadcast() {
        check("add", Map.of("a", random(2 * 3 * 5, 6, 1), "b", random(3 * 5, 7, 1)),
                Map.of("a", new int[] {2, 3, 5}, "b", new int[] {3, 5}),
                (o, v) -> o.add(v.get("a"), v.get("b")),
                d -> DoubleReference.add(d.get("a"), d.get("b")));
    }

    @Test
    void gelu() {
        check("gelu", Map.of("x", random(31, 8, 3)), Map.of("x", new int[] {31}),
                (o, v) -> o.gelu(v.get("x")), d -> DoubleReference.gelu(d.get("x")));
    }

    @Test
    void layerNorm() {
        int n = 5, c = 13;
        check("layerNorm", Map.of("x", random(n * c, 9, 2), "w", random(c, 10, 1), "b", random(c, 11, 1)),
                Map.of("x", new int[] {n, c}, "w", new int[] {c}, "b", new int[] {c}),
                (o, v) -> o.layerNorm(v.get("x"), v.get("w"), v.get("b"), 1e-5f),
                d -> DoubleReference.layerNorm(d.get("x"), d.get("w"), d.get("b"), n, c, 1e-5));
    }

    @Test
    void causalSelfAttention() {
        int b = 2, t = 5, c = 6, nh = 2;
        check("attention", Map.of("qkv", random(b * t * 3 * c, 12, 1)), Map.of("qkv", new int[] {b, t, 3 * c}),
                (o, v) -> o.causalSelfAttention(v.get("qkv"), nh),
                d -> DoubleReference.attention(d.get("qkv"), b, t, c, nh));
    }

    @Test
    void embeddingScatterAddsRepeatedIds() {
        int vocab = 7, c = 3;
        int[] idv = {1, 4, 1, 6, 0, 1};
        Tensor ids = be.allocate(Shape.of(2, 3), DType.I32);
        be.writeInts(ids, 0, idv, 0, idv.length);
        try {
            check("embedding", Map.of("table", random(vocab * c, 13, 1)), Map.of("table", new int[] {vocab, c}),
                    (o, v) -> o.embedding(v.get("table"), ids),
                    d -> DoubleReference.embedding(idv, d.get("table"), c));
        } finally {
            ids.close();
        }
    }

    @Test
    void crossEntropyWithAnIgnoredTarget() {
        int n = 4, vocab = 9;
        int[] tv = {3, -1, 8, 0};
        Tensor targets = be.allocate(Shape.of(n), DType.I32);
        be.writeInts(targets, 0, tv, 0, n);
        try {
            check("crossEntropy", Map.of("logits", random(n * vocab, 14, 3)), Map.of("logits", new int[] {n, vocab}),
                    (o, v) -> o.crossEntropy(v.get("logits"), targets),
                    d -> new double[] {DoubleReference.crossEntropy(d.get("logits"), tv, vocab)});
        } finally {
            targets.close();
        }
    }

    @Test
    void scale() {
        check("scale", Map.of("x", random(17, 16, 2)), Map.of("x", new int[] {17}),
                (o, v) -> o.scale(v.get("x"), -2.5f), d -> DoubleReference.scale(d.get("x"), -2.5));
    }

    @Test
    void poolWithMeanAndLastTokenWeights() {
        int b = 3, t = 5, c = 7;
        // row 0: mean over all 5 tokens; row 1: last token of a 3-token text; row 2: mean over 2 tokens
        float[] w = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0, 0, 1, 0, 0, 0.5f, 0.5f, 0, 0, 0};
        Tensor weights = be.allocate(Shape.of(b, t), DType.F32);
        be.write(weights, 0, w, 0, w.length);
        try {
            check("pool", Map.of("x", random(b * t * c, 17, 1)), Map.of("x", new int[] {b, t, c}),
                    (o, v) -> o.pool(v.get("x"), weights),
                    d -> DoubleReference.pool(d.get("x"), GradCheck.toDouble(w), b, t, c));
        } finally {
            weights.close();
        }
    }

    @Test
    void reshapeIsACopyWithItsGradient() {
        check("reshape", Map.of("x", random(12, 15, 1)), Map.of("x", new int[] {3, 4}),
                (o, v) -> o.reshape(v.get("x"), Shape.of(2, 6)), d -> d.get("x").clone());
    }

    @Test
    void badShapesAreRefusedWithTheShapesInTheMessage() {
        try (GradStore grads = new GradStore(be); Tape tape = new Tape(be);
             Tensor x = be.allocate(Shape.of(2, 3), DType.F32); Tensor w = be.allocate(Shape.of(4, 5), DType.F32)) {
            Graph g = new Graph(be, tape, grads, true, 1);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> g.linear(g.param("x", x), g.param("w", w)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(2, 3)")
                    .hasMessageContaining("(4, 5)");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> g.causalSelfAttention(g.param("x", x), 1))
                    .hasMessageContaining("(B, T, 3C)");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> g.pool(g.param("x", x), w))
                    .hasMessageContaining("(B, T, C)").hasMessageContaining("(2, 3)");
        }
    }
}
