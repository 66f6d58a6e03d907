package dev.cornerstone.model.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.cornerstone.api.autograd.Var;
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
 * The whole GPT: the analytic gradient of the loss with respect to every parameter tensor
 * (the tape through every op) against central finite differences of an independent
 * double-precision forward pass written from the paper's equations with the test kit's
 * reference ops.
 */
class GptGradientTest {

    static final GptConfig CFG = new GptConfig(2, 2, 8, 6, 11, 0f, true);
    static final int B = 2, T = 5;

    /** The GPT forward pass in double, on the given parameters. */
    static double loss(Map<String, double[]> p, int[] ids, int[] targets) {
        int c = CFG.nEmbd(), v = CFG.vocabSize();
        int n = B * T;
        double[] tok = DoubleReference.embedding(ids, p.get("wte.weight"), c);
        int[] posIds = new int[T];
        for (int i = 0; i < T; i++) {
            posIds[i] = i;
        }
        double[] x = DoubleReference.add(tok, DoubleReference.embedding(posIds, p.get("wpe.weight"), c));
        for (int l = 0; l < CFG.nLayer(); l++) {
            String h = "h." + l;
            double[] a = DoubleReference.layerNorm(x, p.get(h + ".ln_1.weight"), p.get(h + ".ln_1.bias"), n, c, 1e-5);
            a = DoubleReference.linear(a, p.get(h + ".attn.c_attn.weight"), p.get(h + ".attn.c_attn.bias"), n, c, 3 * c);
            a = DoubleReference.attention(a, B, T, c, CFG.nHead());
            a = DoubleReference.linear(a, p.get(h + ".attn.c_proj.weight"), p.get(h + ".attn.c_proj.bias"), n, c, c);
            x = DoubleReference.add(x, a);
            double[] m = DoubleReference.layerNorm(x, p.get(h + ".ln_2.weight"), p.get(h + ".ln_2.bias"), n, c, 1e-5);
            m = DoubleReference.linear(m, p.get(h + ".mlp.c_fc.weight"), p.get(h + ".mlp.c_fc.bias"), n, c, 4 * c);
            m = DoubleReference.gelu(m);
            m = DoubleReference.linear(m, p.get(h + ".mlp.c_proj.weight"), p.get(h + ".mlp.c_proj.bias"), n, 4 * c, c);
            x = DoubleReference.add(x, m);
        }
        x = DoubleReference.layerNorm(x, p.get("ln_f.weight"), p.get("ln_f.bias"), n, c, 1e-5);
        double[] logits = DoubleReference.linear(x, p.get("wte.weight"), null, n, c, v);
        return DoubleReference.crossEntropy(logits, targets, v);
    }

    @Test
    void everyParameterGradientMatchesFiniteDifferences() {
        try (CpuBackend be = new CpuBackend(2); Gpt gpt = new Gpt(be, CFG, 7); GradStore grads = new GradStore(be)) {
            // Larger-than-init weights so every path carries signal into the loss.
            SplittableRandom r = new SplittableRandom(3);
            Map<String, double[]> params = new LinkedHashMap<>();
            for (var e : gpt.parameters().entrySet()) {
                float[] w = new float[(int) e.getValue().size()];
                be.read(e.getValue(), 0, w, 0, w.length);
                for (int i = 0; i < w.length; i++) {
                    w[i] += (float) ((r.nextDouble() - 0.5) * 0.6);
                }
                be.write(e.getValue(), 0, w, 0, w.length);
                params.put(e.getKey(), GradCheck.toDouble(w));
            }
            int[] ids = r.ints(B * T, 0, CFG.vocabSize()).toArray();
            int[] targets = r.ints(B * T, 0, CFG.vocabSize()).toArray();
            double lossF32;
            try (Tape tape = new Tape(be); Tensor x = be.allocate(Shape.of(B, T), DType.I32);
                 Tensor y = be.allocate(Shape.of(B, T), DType.I32)) {
                be.writeInts(x, 0, ids, 0, ids.length);
                be.writeInts(y, 0, targets, 0, targets.length);
                Graph g = new Graph(be, tape, grads, true, 1);
                Var loss = g.crossEntropy(gpt.forward(g, x), y);
                tape.backward(loss, 1f);
                lossF32 = Graph.scalar(loss);
            }
            assertThat(lossF32).isCloseTo(loss(params, ids, targets), org.assertj.core.data.Offset.offset(1e-4));

            List<String> failures = new ArrayList<>();
            for (String name : params.keySet()) {
                float[] analytic = new float[params.get(name).length];
                be.read(grads.grads().get(name), 0, analytic, 0, analytic.length);
                for (GradCheck.Mismatch m : GradCheck.check(params.get(name), analytic, xd -> {
                    Map<String, double[]> probe = new LinkedHashMap<>(params);
                    probe.put(name, xd);
                    return loss(probe, ids, targets);
                }, 12, name.hashCode())) {
                    failures.add(name + "[" + m.index() + "]: analytic " + m.analytic() + ", numeric " + m.numeric());
                }
            }
            assertThat(failures).isEmpty();
            assertThat(grads.grads().keySet()).containsExactlyInAnyOrderElementsOf(gpt.parameters().keySet());
        }
    }

    @Test
    void parameterNamesAreGpt2s() {
        try (CpuBackend be = new CpuBackend(1); Gpt gpt = new Gpt(be, CFG, 1)) {
            assertThat(gpt.parameters().keySet()).startsWith("wte.weight", "wpe.weight", "h.0.ln_1.weight",
                    "h.0.ln_1.bias", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight",
                    "h.0.attn.c_proj.bias", "h.0.ln_2.weight", "h.0.ln_2.bias", "h.0.mlp.c_fc.weight",
                    "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias").endsWith("ln_f.weight",
                    "ln_f.bias");
            assertThat(gpt.parameters().get("h.1.attn.c_attn.weight").shape()).isEqualTo(Shape.of(24, 8));
        }
    }

    @Test
    void initialisationIsSeededAndScalesResidualProjections() {
        try (CpuBackend be = new CpuBackend(1);
             Gpt a = new Gpt(be, new GptConfig(4, 4, 64, 16, 50, 0f, true), 5);
             Gpt b = new Gpt(be, new GptConfig(4, 4, 64, 16, 50, 0f, true), 5)) {
            float[] wa = read(be, a.parameters().get("h.0.mlp.c_fc.weight"));
            assertThat(read(be, b.parameters().get("h.0.mlp.c_fc.weight"))).isEqualTo(wa);
            assertThat(std(wa)).isCloseTo(0.02, org.assertj.core.data.Offset.offset(0.002));
            float[] proj = read(be, a.parameters().get("h.0.mlp.c_proj.weight"));
            assertThat(std(proj)).isCloseTo(0.02 / Math.sqrt(8), org.assertj.core.data.Offset.offset(0.001));
            assertThat(read(be, a.parameters().get("h.0.ln_1.weight"))).containsOnly(1f);
        }
    }

    static float[] read(CpuBackend be, Tensor t) {
        float[] f = new float[(int) t.size()];
        be.read(t, 0, f, 0, f.length);
        return f;
    }

    static double std(float[] f) {
        double s = 0;
        for (float v : f) {
            s += v * v;
        }
        return Math.sqrt(s / f.length);
    }
}
