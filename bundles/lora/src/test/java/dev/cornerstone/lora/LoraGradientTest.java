package dev.cornerstone.lora;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.autograd.GradStore;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;
import dev.cornerstone.testkit.DoubleReference;
import dev.cornerstone.testkit.GradCheck;
import org.junit.jupiter.api.Test;

/**
 * The gradients LoRA's adapters receive, against central finite differences in double
 * precision. The network is two adapted Linear layers with GELU between them:
 *
 * <pre>
 * h   = gelu(x W1^T + b1 + s · x A1^T B1^T)          x (N, C), W1 (H, C), A1 (r, C), B1 (H, r)
 * out = h W2^T + b2 + s · h A2^T B2^T                 W2 (OC, H), A2 (r, H), B2 (OC, r)
 * loss = sum(out · R)
 * </pre>
 *
 * with the base weights frozen (they get no gradient at all) and B drawn at random rather than
 * zero, so every path carries a gradient. The embedding adapter ({@code target_embeddings}) the
 * same way, on a table looked up with repeated ids and feeding an adapted Linear layer:
 *
 * <pre>
 * e   = W[ids] + s · A[ids] B^T                        W (V, C), A (V, r), B (C, r), ids (N) with repeats
 * out = gelu(e) P^T + p + s · gelu(e) PA^T PB^T        P (OC, C), PA (r, C), PB (OC, r)
 * loss = sum(out · R)
 * </pre>
 */
class LoraGradientTest {

    static final int N = 6, C = 5, H = 7, OC = 4, R = 3;
    static final double ALPHA = 6;
    static final double S = ALPHA / R;

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return f;
    }

    /** The network in double precision: the oracle. */
    static double[] reference(Map<String, double[]> p, double[] x) {
        double[] h = DoubleReference.linear(x, p.get("fc.weight"), p.get("fc.bias"), N, C, H);
        double[] la = DoubleReference.linear(DoubleReference.linear(x, p.get("fc.lora_A.weight"), null, N, C, R),
                p.get("fc.lora_B.weight"), null, N, R, H);
        h = DoubleReference.gelu(DoubleReference.add(h, DoubleReference.scale(la, S)));
        double[] out = DoubleReference.linear(h, p.get("proj.weight"), p.get("proj.bias"), N, H, OC);
        double[] lb = DoubleReference.linear(DoubleReference.linear(h, p.get("proj.lora_A.weight"), null, N, H, R),
                p.get("proj.lora_B.weight"), null, N, R, OC);
        return DoubleReference.add(out, DoubleReference.scale(lb, S));
    }

    @Test
    void adapterGradientsMatchFiniteDifferencesAndTheBaseGetsNone() {
        try (CpuBackend be = new CpuBackend(2)) {
            SequencedMap<String, Tensor> base = new LinkedHashMap<>();
            Map<String, float[]> values = new LinkedHashMap<>();
            Map<String, int[]> shapes = Map.of("fc.weight", new int[] {H, C}, "fc.bias", new int[] {H},
                    "proj.weight", new int[] {OC, H}, "proj.bias", new int[] {OC});
            long seed = 1;
            for (String name : List.of("fc.weight", "fc.bias", "proj.weight", "proj.bias")) {
                int[] dims = shapes.get(name);
                Tensor t = be.allocate(Shape.of(dims), DType.F32);
                float[] v = random((int) t.size(), seed++);
                be.write(t, 0, v, 0, v.length);
                base.put(name, t);
                values.put(name, v);
            }
            float[] xv = random(N * C, 50);
            try (Adapter lora = new LoraProvider().create(be, base, Map.of("rank", R, "alpha", ALPHA,
                    "target_modules", List.of("fc", "proj")), 7);
                 Tensor x = be.allocate(Shape.of(N, C), DType.F32);
                 GradStore grads = new GradStore(be, lora.parameters()::containsKey);
                 Tape tape = new Tape(be)) {
                assertThat(lora.parameters().keySet()).containsExactly("fc.lora_A.weight", "fc.lora_B.weight",
                        "proj.lora_A.weight", "proj.lora_B.weight");
                for (var e : lora.parameters().entrySet()) {
                    float[] v = random((int) e.getValue().size(), seed++);
                    be.write(e.getValue(), 0, v, 0, v.length);
                    values.put(e.getKey(), v);
                }
                be.write(x, 0, xv, 0, xv.length);

                Graph g = new Graph(be, tape, grads, true, 1);
                Ops ops = lora.apply(g);
                Var h = ops.gelu(ops.linear(ops.constant(x), ops.param("fc.weight", base.get("fc.weight")),
                        ops.param("fc.bias", base.get("fc.bias"))));
                Var out = ops.linear(h, ops.param("proj.weight", base.get("proj.weight")),
                        ops.param("proj.bias", base.get("proj.bias")));
                float[] r = random(N * OC, 99);
                Tensor rt = tape.allocate(out.shape(), DType.F32);
                be.write(rt, 0, r, 0, r.length);
                tape.backwardFrom(out, rt);

                assertThat(grads.names()).as("only the adapter is trained").containsExactlyInAnyOrderElementsOf(
                        lora.parameters().keySet());
                double[] rd = GradCheck.toDouble(r);
                double[] xd = GradCheck.toDouble(xv);
                Map<String, double[]> all = new LinkedHashMap<>();
                values.forEach((k, v) -> all.put(k, GradCheck.toDouble(v)));
                double[] expected = reference(all, xd);
                float[] actual = new float[N * OC];
                be.read(out.value(), 0, actual, 0, actual.length);
                for (int i = 0; i < actual.length; i++) {
                    assertThat((double) actual[i]).as("out[" + i + "]").isCloseTo(expected[i],
                            org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(expected[i]))));
                }
                List<String> failures = new ArrayList<>();
                for (String name : lora.parameters().keySet()) {
                    float[] analytic = new float[values.get(name).length];
                    be.read(grads.grads().get(name), 0, analytic, 0, analytic.length);
                    assertThat(analytic).as(name + " has a gradient").isNotEqualTo(new float[analytic.length]);
                    Map<String, double[]> p = new LinkedHashMap<>();
                    values.forEach((k, v) -> p.put(k, GradCheck.toDouble(v)));
                    for (GradCheck.Mismatch m : GradCheck.check(p.get(name), analytic, probe -> {
                        Map<String, double[]> q = new LinkedHashMap<>(p);
                        q.put(name, probe);
                        return DoubleReference.dot(reference(q, xd), rd);
                    }, 100, 3)) {
                        failures.add("d" + name + "[" + m.index() + "]: analytic " + m.analytic() + ", numeric "
                                + m.numeric());
                    }
                }
                assertThat(failures).isEmpty();
            } finally {
                base.values().forEach(Tensor::close);
            }
            assertThat(be.liveTensors()).as("tensors leaked").isZero();
        }
    }

    static final int V = 9;
    static final int[] IDS = {3, 0, 3, 7, 8, 3};   // N of them: 3 three times, rows 1, 2, 4, 5, 6 never

    /** The embedding network in double precision: the oracle. */
    static double[] embeddingReference(Map<String, double[]> p) {
        double[] e = DoubleReference.embedding(IDS, p.get("wte.weight"), C);
        double[] la = DoubleReference.linear(DoubleReference.embedding(IDS, p.get("wte.lora_embedding_A.weight"), R),
                p.get("wte.lora_embedding_B.weight"), null, N, R, C);
        double[] h = DoubleReference.gelu(DoubleReference.add(e, DoubleReference.scale(la, S)));
        double[] out = DoubleReference.linear(h, p.get("proj.weight"), p.get("proj.bias"), N, C, OC);
        double[] lb = DoubleReference.linear(DoubleReference.linear(h, p.get("proj.lora_A.weight"), null, N, C, R),
                p.get("proj.lora_B.weight"), null, N, R, OC);
        return DoubleReference.add(out, DoubleReference.scale(lb, S));
    }

    @Test
    void embeddingAdapterGradientsMatchFiniteDifferencesAndTheTableGetsNone() {
        try (CpuBackend be = new CpuBackend(2)) {
            SequencedMap<String, Tensor> base = new LinkedHashMap<>();
            Map<String, float[]> values = new LinkedHashMap<>();
            Map<String, int[]> shapes = Map.of("wte.weight", new int[] {V, C}, "proj.weight", new int[] {OC, C},
                    "proj.bias", new int[] {OC});
            long seed = 11;
            for (String name : List.of("wte.weight", "proj.weight", "proj.bias")) {
                Tensor t = be.allocate(Shape.of(shapes.get(name)), DType.F32);
                float[] v = random((int) t.size(), seed++);
                be.write(t, 0, v, 0, v.length);
                base.put(name, t);
                values.put(name, v);
            }
            try (Adapter lora = new LoraProvider().create(be, base, Map.of("rank", R, "alpha", ALPHA,
                    "target_modules", List.of("proj"), "target_embeddings", List.of("wte")), 7);
                 Tensor ids = be.allocate(Shape.of(N), DType.I32);
                 GradStore grads = new GradStore(be, lora.parameters()::containsKey);
                 Tape tape = new Tape(be)) {
                assertThat(lora.parameters().keySet()).containsExactlyInAnyOrder("wte.lora_embedding_A.weight",
                        "wte.lora_embedding_B.weight", "proj.lora_A.weight", "proj.lora_B.weight");
                for (var e : lora.parameters().entrySet()) {   // A at random too, not zero: every path has a gradient
                    float[] v = random((int) e.getValue().size(), seed++);
                    be.write(e.getValue(), 0, v, 0, v.length);
                    values.put(e.getKey(), v);
                }
                be.writeInts(ids, 0, IDS, 0, N);

                Graph g = new Graph(be, tape, grads, true, 1);
                Ops ops = lora.apply(g);
                Var h = ops.gelu(ops.embedding(ops.param("wte.weight", base.get("wte.weight")), ids));
                Var out = ops.linear(h, ops.param("proj.weight", base.get("proj.weight")),
                        ops.param("proj.bias", base.get("proj.bias")));
                float[] r = random(N * OC, 98);
                Tensor rt = tape.allocate(out.shape(), DType.F32);
                be.write(rt, 0, r, 0, r.length);
                tape.backwardFrom(out, rt);

                assertThat(grads.names()).as("only the adapter is trained, the table is not")
                        .containsExactlyInAnyOrderElementsOf(lora.parameters().keySet());
                double[] rd = GradCheck.toDouble(r);
                Map<String, double[]> all = new LinkedHashMap<>();
                values.forEach((k, v) -> all.put(k, GradCheck.toDouble(v)));
                double[] expected = embeddingReference(all);
                float[] actual = new float[N * OC];
                be.read(out.value(), 0, actual, 0, actual.length);
                for (int i = 0; i < actual.length; i++) {
                    assertThat((double) actual[i]).as("out[" + i + "]").isCloseTo(expected[i],
                            org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(expected[i]))));
                }
                List<String> failures = new ArrayList<>();
                for (String name : lora.parameters().keySet()) {
                    float[] analytic = new float[values.get(name).length];
                    be.read(grads.grads().get(name), 0, analytic, 0, analytic.length);
                    assertThat(analytic).as(name + " has a gradient").isNotEqualTo(new float[analytic.length]);
                    if (name.equals("wte.lora_embedding_A.weight")) {
                        for (int row = 0; row < V; row++) {
                            boolean looked = false;
                            for (int id : IDS) {
                                looked |= id == row;
                            }
                            for (int k = 0; k < R && !looked; k++) {
                                assertThat(analytic[row * R + k]).as("A row " + row + " is never looked up").isZero();
                            }
                        }
                    }
                    for (GradCheck.Mismatch m : GradCheck.check(all.get(name), analytic, probe -> {
                        Map<String, double[]> q = new LinkedHashMap<>(all);
                        q.put(name, probe);
                        return DoubleReference.dot(embeddingReference(q), rd);
                    }, 100, 3)) {
                        failures.add("d" + name + "[" + m.index() + "]: analytic " + m.analytic() + ", numeric "
                                + m.numeric());
                    }
                }
                assertThat(failures).isEmpty();
            } finally {
                base.values().forEach(Tensor::close);
            }
            assertThat(be.liveTensors()).as("tensors leaked").isZero();
        }
    }
}
