package dev.cornerstone.testkit;

import static dev.cornerstone.testkit.Approx.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * The oracle itself, checked against numbers worked out by hand, known values, and central
 * finite differences of its own forward passes (in the manner of micrograd's and llm.c's
 * gradient checks): a fast kernel that matches a wrong reference would otherwise pass.
 */
class ReferenceKernelsTest {

    /** Finite differences of float outputs with step 1e-2: good to about 1e-3 relative. */
    private static final double FD_RTOL = 2e-2;
    private static final double FD_ATOL = 2e-3;
    private static final double FD_STEP = 1e-2;

    /** d(sum_i f(x)_i g_i)/dx by central differences, in double. */
    private static float[] numericGradient(float[] x, float[] g, Function<float[], float[]> f) {
        float[] grad = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = (float) (saved + FD_STEP);
            double plus = dot(f.apply(x), g);
            x[i] = (float) (saved - FD_STEP);
            double minus = dot(f.apply(x), g);
            x[i] = saved;
            grad[i] = (float) ((plus - minus) / (2 * FD_STEP));
        }
        return grad;
    }

    /** Uniform in [lo, hi). */
    private static float[] uniform(SplittableRandom random, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }

    private static float[] uniform(SplittableRandom random, int n) {
        return uniform(random, n, -1, 1);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void gemmByHand() {
        float[] a = {1, 2, 3, 4, 5, 6};           // (2, 3)
        float[] b = {7, 8, 9, 10, 11, 12};        // (3, 2)
        float[] c = {1, 1, 1, 1};
        ReferenceKernels.gemm(false, false, 1, 2, 2, 3, 1f, a, 0, 0, b, 0, 0, 1f, c, 0, 0);
        assertThat(c).containsExactly(59, 65, 140, 155);
        // A^T B^T with the same storage read as (3, 2) and (2, 3): (2,3)^T... = [[1,3,5],[2,4,6]] x ...
        float[] d = new float[9];
        ReferenceKernels.gemm(true, true, 1, 3, 3, 2, 1f, a, 0, 0, b, 0, 0, 0f, d, 0, 0);
        // op(A) = A^T of A stored (2, 3): rows (1,4), (2,5), (3,6); op(B) = B^T of B stored (3, 2): cols (7,8), (9,10), (11,12)
        assertThat(d).containsExactly(39, 49, 59, 54, 68, 82, 69, 87, 105);
    }

    @Test
    void geluKnownValuesAndGradient() {
        float[] x = {-3f, -1f, 0f, 0.5f, 1f, 2.5f};
        float[] out = new float[x.length];
        ReferenceKernels.geluForward(x, out);
        assertThat(out[2]).isZero();
        assertThat((double) out[4]).isCloseTo(0.8411919906082768, within(1e-7));
        float[] g = {1, 1, 1, 1, 1, 1};
        float[] dx = new float[x.length];
        ReferenceKernels.geluBackward(x, g, dx);
        float[] numeric = numericGradient(x, g, in -> {
            float[] o = new float[in.length];
            ReferenceKernels.geluForward(in, o);
            return o;
        });
        assertClose(dx, numeric, FD_RTOL, FD_ATOL, "gelu gradient");
    }

    @Test
    void layerNormGradients() {
        int n = 3;
        int c = 5;
        SplittableRandom random = new SplittableRandom(1);
        float[] x = uniform(random, n * c, -2, 2);
        float[] w = uniform(random, c, 0.5, 1.5);
        float[] b = uniform(random, c);
        float[] g = uniform(random, n * c);
        float[] out = new float[n * c];
        float[] mean = new float[n];
        float[] rstd = new float[n];
        ReferenceKernels.layerNormForward(x, w, b, out, mean, rstd, 1e-5f);
        for (int r = 0; r < n; r++) {
            double v = 0;
            for (int i = 0; i < c; i++) {
                double norm = (out[r * c + i] - b[i]) / w[i];
                v += norm * norm;
            }
            assertThat(v / c).as("normalised row has unit variance").isCloseTo(1.0, within(1e-3));
        }
        float[] dx = new float[n * c];
        float[] dw = new float[c];
        float[] db = new float[c];
        ReferenceKernels.layerNormBackward(g, x, w, mean, rstd, dx, dw, db);
        Function<float[], float[]> byX = in -> {
            float[] o = new float[n * c];
            ReferenceKernels.layerNormForward(in, w, b, o, new float[n], new float[n], 1e-5f);
            return o;
        };
        assertClose(dx, numericGradient(x.clone(), g, byX), FD_RTOL, FD_ATOL, "layernorm dx");
        Function<float[], float[]> byW = in -> {
            float[] o = new float[n * c];
            ReferenceKernels.layerNormForward(x, in, b, o, new float[n], new float[n], 1e-5f);
            return o;
        };
        assertClose(dw, numericGradient(w.clone(), g, byW), FD_RTOL, FD_ATOL, "layernorm dweight");
        Function<float[], float[]> byB = in -> {
            float[] o = new float[n * c];
            ReferenceKernels.layerNormForward(x, w, in, o, new float[n], new float[n], 1e-5f);
            return o;
        };
        assertClose(db, numericGradient(b.clone(), g, byB), FD_RTOL, FD_ATOL, "layernorm dbias");
    }

    @Test
    void attentionIsCausalAndItsGradientMatchesFiniteDifferences() {
        int b = 2;
        int t = 4;
        int c = 6;
        int nh = 2;
        SplittableRandom random = new SplittableRandom(2);
        float[] qkv = uniform(random, b * t * 3 * c);
        float[] g = uniform(random, b * t * c);
        float[] att = new float[b * nh * t * t];
        float[] out = new float[b * t * c];
        ReferenceKernels.attentionForward(qkv, att, out, b, t, c, nh);
        for (int row = 0; row < b * nh * t; row++) {
            double sum = 0;
            for (int t2 = 0; t2 < t; t2++) {
                sum += att[row * t + t2];
            }
            assertThat(sum).as("att row sums to 1").isCloseTo(1.0, within(1e-6));
        }
        // position 0 sees only itself: its output is its own value vector
        for (int h = 0; h < nh; h++) {
            for (int i = 0; i < c / nh; i++) {
                assertThat(out[h * (c / nh) + i]).isEqualTo(qkv[2 * c + h * (c / nh) + i]);
            }
        }
        float[] dqkv = new float[qkv.length];
        ReferenceKernels.attentionBackward(g, qkv, att, dqkv, b, t, c, nh);
        float[] numeric = numericGradient(qkv.clone(), g, in -> {
            float[] o = new float[b * t * c];
            ReferenceKernels.attentionForward(in, new float[b * nh * t * t], o, b, t, c, nh);
            return o;
        });
        assertClose(dqkv, numeric, FD_RTOL, FD_ATOL, "attention dqkv");
    }

    @Test
    void crossEntropyValuesAndGradient() {
        float[] logits = {1f, 2f, 3f, 0.5f, -1f, 4f};
        int[] targets = {2, -1};
        float[] probs = new float[6];
        float[] losses = new float[2];
        ReferenceKernels.crossEntropyForward(logits, targets, probs, losses);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertThat((double) probs[2]).isCloseTo(Math.exp(3) / z, within(1e-7));
        assertThat((double) losses[0]).isCloseTo(-Math.log(Math.exp(3) / z), within(1e-6));
        assertThat(losses[1]).isZero();
        float[] dlosses = {0.7f, 0.3f};
        float[] dlogits = new float[6];
        ReferenceKernels.crossEntropyBackward(probs, targets, dlosses, dlogits);
        float[] numeric = numericGradient(logits.clone(), dlosses, in -> {
            float[] l = new float[2];
            ReferenceKernels.crossEntropyForward(in, targets, new float[6], l);
            return l;
        });
        assertClose(dlogits, numeric, FD_RTOL, FD_ATOL, "cross-entropy dlogits");
        assertThat(new float[] {dlogits[3], dlogits[4], dlogits[5]}).containsOnly(0f);
    }

    @Test
    void dropoutGeneratorIsSplitMix64() {
        // java.util.SplittableRandom(seed).nextLong() is SplitMix64: its i-th output is our (seed, i)
        for (long seed : new long[] {0L, 42L, -7L}) {
            SplittableRandom reference = new SplittableRandom(seed);
            float[] x = new float[1000];
            java.util.Arrays.fill(x, 1f);
            float[] mask = new float[1000];
            ReferenceKernels.dropoutForward(x, mask, new float[1000], 0.5f, seed);
            for (int i = 0; i < 1000; i++) {
                float uniform = (reference.nextLong() >>> 40) * 0x1.0p-24f;
                assertThat(mask[i]).isEqualTo(uniform >= 0.5f ? 2f : 0f);
            }
        }
    }

    @Test
    void optimizerStepsByHand() {
        // AdamW, step 1: mhat = g, vhat = g^2, so p -= lr (sign(g) + wd p), up to eps
        float[] p = {1f};
        ReferenceKernels.adamwStep(p, new float[] {0.5f}, new float[1], new float[1], 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 1);
        assertThat(p[0]).isCloseTo(1f - 0.1f * (1f + 0.1f), within(1e-6f));
        // Nesterov SGD, first step: buf = g, g' = g + momentum buf
        float[] q = {1f};
        float[] buf = {123f};
        ReferenceKernels.sgdStep(q, new float[] {1f}, buf, 0.1f, 0.9f, true, 0f, true);
        assertThat(buf[0]).isEqualTo(1f);
        assertThat(q[0]).isCloseTo(1f - 0.1f * 1.9f, within(1e-7f));
        // second step, plain momentum with weight decay: g' = g + wd p; buf = m buf + g'
        float[] r = {2f};
        float[] buf2 = {1f};
        ReferenceKernels.sgdStep(r, new float[] {1f}, buf2, 0.1f, 0.5f, false, 0.25f, false);
        assertThat(buf2[0]).isCloseTo(0.5f * 1f + 1f + 0.25f * 2f, within(1e-7f));
        assertThat(r[0]).isCloseTo(2f - 0.1f * 2f, within(1e-6f));
    }

    @Test
    void sumRowsAndBroadcasts() {
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] out = {10, 20, 30};
        ReferenceKernels.sumRows(x, out);
        assertThat(out).containsExactly(15, 27, 39);
        float[] sum = new float[6];
        ReferenceKernels.add(x, new float[] {1, -1, 0}, sum);
        assertThat(sum).containsExactly(2, 1, 3, 5, 4, 6);
    }
}
