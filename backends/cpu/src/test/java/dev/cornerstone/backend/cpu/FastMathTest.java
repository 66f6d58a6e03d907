package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The vectorisable tanh and exp against {@link Math}, over their whole float range. */
class FastMathTest {

    @Test
    void expIsWithinAFewUlpEverywhere() {
        int len = 4096;
        float[] x = new float[len];
        float[] y = new float[len];
        float[] n = new float[len];
        float[] keep = new float[len];
        double worst = 0;
        for (float lo = -87.3f; lo < 88f; lo += len * 0.0007f) {
            for (int i = 0; i < len; i++) {
                x[i] = Math.min(88f, lo + i * 0.0007f);
            }
            FastMath.exp(x, y, len, n, keep);
            for (int i = 0; i < len; i++) {
                double e = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - e) / e);
            }
        }
        assertThat(worst).as("max relative error of exp").isLessThan(1.5e-7);
    }

    @Test
    void expEdges() {
        float[] x = {0f, Float.NEGATIVE_INFINITY, -1000f, -87.34f, -87.3f, Float.NaN, 1f, -1f};
        float[] y = new float[x.length];
        FastMath.exp(x, y, x.length, new float[x.length], new float[x.length]);
        assertThat(y[0]).isEqualTo(1f);
        assertThat(y[1]).isZero();
        assertThat(y[2]).isZero();
        assertThat(y[3]).isZero();
        assertThat((double) y[4]).isCloseTo(Math.exp(-87.3f), org.assertj.core.data.Percentage.withPercentage(1e-5));
        assertThat(y[5]).isNaN();
        assertThat((double) y[6]).isCloseTo(Math.E, org.assertj.core.data.Offset.offset(1e-6));
        // in place
        FastMath.exp(x, x, x.length, new float[x.length], new float[x.length]);
        assertThat(x[7]).isEqualTo(y[7]);
    }

    @Test
    void tanhIsWithinItsStatedError() {
        double worst = 0;
        for (float v = -20f; v < 20f; v += 1e-5f) {
            worst = Math.max(worst, Math.abs(FastMath.tanh(v) - Math.tanh(v)));
        }
        assertThat(worst).as("max absolute error of tanh").isLessThan(4.2e-7);
        assertThat(FastMath.tanh(0f)).isZero();
        assertThat(FastMath.tanh(Float.NaN)).isNaN();
        assertThat(FastMath.tanh(Float.POSITIVE_INFINITY)).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-6f));
    }
}
