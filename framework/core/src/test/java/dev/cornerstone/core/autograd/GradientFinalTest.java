package dev.cornerstone.core.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;

/**
 * {@link Tape#onGradientFinal}: each trainable parameter is reported once, during backward, as
 * soon as its gradient holds its last contribution and not before; a frozen one is not reported.
 * The net is a tiny language model with a tied embedding, the case where a parameter gets a
 * contribution at both ends of the backward pass:
 *
 * <pre>
 * h = embedding(wte, x)              (B, T, C)     step 0
 * h = gelu(linear(h, l1.weight, l1.bias))         steps 1, 2
 * logits = linear(h, wte)            (B, T, V)     step 3: wte's first contribution
 * loss = crossEntropy(logits, y)                   step 4
 * </pre>
 */
class GradientFinalTest {

    static final int B = 2, T = 3, C = 4, V = 8;

    record Report(String name, float[] gradThen, float[] wteThen) {
    }

    static Tensor random(CpuBackend be, Random rnd, int... dims) {
        Tensor t = be.allocate(Shape.of(dims), DType.F32);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.5f;
        }
        be.write(t, 0, v, 0, v.length);
        return t;
    }

    static float[] read(CpuBackend be, Tensor t) {
        float[] v = new float[(int) t.size()];
        be.read(t, 0, v, 0, v.length);
        return v;
    }

    /** Runs forward and backward, returning the reports and the final gradients by name. */
    static List<Report> run(CpuBackend be, GradStore grads, Map<String, float[]> finalGrads) {
        Random rnd = new Random(7);
        List<Report> reports = new ArrayList<>();
        try (Tensor wte = random(be, rnd, V, C); Tensor w1 = random(be, rnd, C, C); Tensor b1 = random(be, rnd, C);
             Tensor x = be.allocate(Shape.of(B, T), DType.I32); Tensor y = be.allocate(Shape.of(B, T), DType.I32);
             Tape tape = new Tape(be)) {
            be.writeInts(x, 0, new int[] {1, 2, 3, 4, 5, 6}, 0, B * T);
            be.writeInts(y, 0, new int[] {2, 3, 4, 5, 6, 7}, 0, B * T);
            Graph g = new Graph(be, tape, grads, true, 1);
            tape.onGradientFinal((name, grad) -> reports.add(new Report(name, read(be, grad),
                    read(be, grads.grads().get("wte")))));
            Var table = g.param("wte", wte);
            Var h = g.embedding(table, x);
            h = g.gelu(g.linear(h, g.param("l1.weight", w1), g.param("l1.bias", b1)));
            Var loss = g.crossEntropy(g.linear(h, table), y);
            assertThat(reports).as("nothing is final before backward").isEmpty();
            tape.backward(loss, 1f);
            for (var e : grads.grads().entrySet()) {
                finalGrads.put(e.getKey(), read(be, e.getValue()));
            }
        }
        return reports;
    }

    @Test
    void eachGradientIsReportedOnceWhenItsLastContributionIsIn() {
        try (CpuBackend be = new CpuBackend(1); GradStore grads = new GradStore(be)) {
            Map<String, float[]> finals = new LinkedHashMap<>();
            List<Report> reports = run(be, grads, finals);
            assertThat(reports).extracting(Report::name)
                    .as("the linear's parameters (reverse binding order) while backward still has the embedding "
                            + "to do, then the tied table")
                    .containsExactly("l1.bias", "l1.weight", "wte");
            for (Report r : reports) {
                assertThat(r.gradThen()).as("%s when reported", r.name()).containsExactly(finals.get(r.name()));
            }
            Report first = reports.getFirst();
            assertThat(first.wteThen()).as("wte when l1.bias was reported: the head's contribution only")
                    .isNotEqualTo(finals.get("wte"))
                    .matches(v -> {
                        for (float f : v) {
                            if (f != 0) {
                                return true;
                            }
                        }
                        return false;
                    }, "holds the head's contribution");
        }
    }

    @Test
    void aFrozenParameterIsNotReportedAndATapeWithoutListenerIsUnchanged() {
        try (CpuBackend be = new CpuBackend(1); GradStore frozen = new GradStore(be, n -> !n.equals("l1.bias"));
             GradStore plain = new GradStore(be)) {
            Map<String, float[]> finals = new LinkedHashMap<>();
            assertThat(run(be, frozen, finals)).extracting(Report::name).containsExactly("l1.weight", "wte");
            assertThat(finals).doesNotContainKey("l1.bias");
            // the same pass without a listener computes the same gradients
            Map<String, float[]> again = new LinkedHashMap<>();
            Random rnd = new Random(7);
            try (Tensor wte = random(be, rnd, V, C); Tensor w1 = random(be, rnd, C, C); Tensor b1 = random(be, rnd, C);
                 Tensor x = be.allocate(Shape.of(B, T), DType.I32); Tensor y = be.allocate(Shape.of(B, T), DType.I32);
                 Tape tape = new Tape(be)) {
                be.writeInts(x, 0, new int[] {1, 2, 3, 4, 5, 6}, 0, B * T);
                be.writeInts(y, 0, new int[] {2, 3, 4, 5, 6, 7}, 0, B * T);
                Graph g = new Graph(be, tape, plain, true, 1);
                Var table = g.param("wte", wte);
                Var h = g.gelu(g.linear(g.embedding(table, x), g.param("l1.weight", w1), g.param("l1.bias", b1)));
                tape.backward(g.crossEntropy(g.linear(h, table), y), 1f);
                for (var e : plain.grads().entrySet()) {
                    again.put(e.getKey(), read(be, e.getValue()));
                }
            }
            assertThat(again.get("wte")).containsExactly(finals.get("wte"));
            assertThat(again.get("l1.weight")).containsExactly(finals.get("l1.weight"));
        }
    }
}
