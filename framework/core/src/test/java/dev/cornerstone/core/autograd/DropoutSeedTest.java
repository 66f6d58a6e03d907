package dev.cornerstone.core.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * Dropout masks of different steps and micro-batches are independent. The trainer seeds each
 * step's graph with numbers that differ by small amounts (131 per step, 1 per micro-batch), and
 * the kernel's generator is SplitMix64 at state {@code seed + (i+1)γ}; a graph that turned its
 * seed into a call's seed by multiplying with γ made the mask of seed D+s the mask of seed D
 * shifted by s elements.
 */
class DropoutSeedTest {

    static final int N = 4096;

    static float[] mask(CpuBackend be, long graphSeed, int call) {
        try (GradStore grads = new GradStore(be); Tape tape = new Tape(be); Tensor x = be.allocate(Shape.of(N), DType.F32)) {
            be.fill(x, 1f);
            Graph g = new Graph(be, tape, grads, true, graphSeed);
            Var out = null;
            for (int c = 0; c <= call; c++) {
                out = g.dropout(g.constant(x), 0.5f);
            }
            float[] m = new float[N];
            be.read(out.value(), 0, m, 0, N);
            return m;
        }
    }

    /** Share of positions i where a[i + shift] and b[i] are both kept or both dropped; chance is 0.5. */
    static double agreement(float[] a, float[] b, int shift) {
        int same = 0;
        for (int i = 0; i + shift < N; i++) {
            same += (a[i + shift] != 0) == (b[i] != 0) ? 1 : 0;
        }
        return (double) same / (N - shift);
    }

    @Test
    void masksOfNearbySeedsAndOfSuccessiveCallsAreNotShiftedCopies() {
        try (CpuBackend be = new CpuBackend(2)) {
            long d = 1337L * 1_000_003L + 131L;
            float[] base = mask(be, d, 0);
            for (int s : new int[] {1, 2, 131}) {
                float[] other = mask(be, d + s, 0);
                for (int shift : new int[] {0, s, -s}) {
                    double agree = shift >= 0 ? agreement(base, other, shift) : agreement(other, base, -shift);
                    assertThat(agree).as("seed +%d, shift %d", s, shift).isBetween(0.45, 0.55);
                }
            }
            float[] second = mask(be, d, 1);
            for (int shift = 0; shift < 3; shift++) {
                assertThat(agreement(base, second, shift)).as("second call, shift %d", shift).isBetween(0.45, 0.55);
                assertThat(agreement(second, base, shift)).as("second call, shift -%d", shift).isBetween(0.45, 0.55);
            }
        }
    }
}
