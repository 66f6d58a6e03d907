package dev.cornerstone.backend.cpu;

/**
 * Float functions built only from operations C2 vectorises (multiply, add, divide, min, max,
 * int-float conversions, shifts), for kernel loops where {@link Math#tanh} or {@link Math#exp}
 * would be the bottleneck: they are scalar calls, about 17 ns and 8 ns an element here, against
 * about 1 ns for {@link #tanh} and 1.3 ns for {@link #exp} in vectorised loops.
 *
 * <p>C2 unrolls, and so vectorises, only loops with small bodies; {@link #exp} is therefore
 * written as a few passes over arrays rather than as one formula per element.
 */
final class FastMath {

    /** Beyond this |x|, tanh(x) rounds to ±1 in float. */
    private static final float TANH_CLAMP = 7.90531110763549805f;

    /** ln of the smallest normal float: exp of anything below is flushed to 0. */
    private static final float EXP_LOW = -87.33654475f;
    private static final float EXP_HIGH = 88.0f;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts, the first exact in few bits (Cody and Waite). */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;

    private FastMath() {
    }

    /**
     * tanh(x) as the [13/6] rational minimax approximation that Eigen uses for float
     * ({@code ptanh_float}), on x clamped to ±7.905. Measured against {@link Math#tanh} on every
     * float in [1e-3, 9] (tanh is odd; beyond, the clamp holds): absolute error at most 4.1e-7,
     * a few ulp.
     */
    static float tanh(float x) {
        float c = Math.max(Math.min(x, TANH_CLAMP), -TANH_CLAMP);
        float x2 = c * c;
        float p = -2.76076847742355e-16f;
        p = p * x2 + 2.00018790482477e-13f;
        p = p * x2 - 8.60467152213735e-11f;
        p = p * x2 + 5.12229709037114e-08f;
        p = p * x2 + 1.48572235717979e-05f;
        p = p * x2 + 6.37261928875436e-04f;
        p = p * x2 + 4.89352455891786e-03f;
        p = p * c;
        float q = 1.19825839466702e-06f;
        q = q * x2 + 1.18534705686654e-04f;
        q = q * x2 + 2.26843463243900e-03f;
        q = q * x2 + 4.89352518554385e-03f;
        return p / q;
    }

    /**
     * {@code y[j] = exp(x[j])} for {@code j < len} (x and y may be the same array), as Cephes'
     * {@code expf}: {@code exp(x) = 2^n exp(r)}, n = round(x / ln 2), |r| <= ln2/2, exp(r) by a
     * degree-7 polynomial. The power of two is built as a product of one factor per bit of n,
     * because reinterpreting bits as a float ({@link Float#intBitsToFloat}) does not vectorise.
     * Relative error below 1e-7 (measured over [-87, 88]); x below ln(2^-126) gives 0, above 88
     * gives exp(88); NaN stays NaN. {@code n} and {@code keep} are scratch of at least len.
     */
    static void exp(float[] x, float[] y, int len, float[] n, float[] keep) {
        for (int j = 0; j < len; j++) {
            float v = x[j];
            // 0 below the range (-inf too), 1 in it; NaN stays NaN through min and max
            keep[j] = Math.min(1f, Math.max(0f, (v - EXP_LOW) * 0x1p100f));
            float c = Math.max(Math.min(v, EXP_HIGH), EXP_LOW);
            float k = (c * LOG2E + ROUND) - ROUND;
            n[j] = k;
            y[j] = c - k * LN2_HI - k * LN2_LO;
        }
        for (int j = 0; j < len; j++) {
            float r = y[j];
            float p = 1.9875691500E-4f;
            p = p * r + 1.3981999507E-3f;
            p = p * r + 8.3334519073E-3f;
            p = p * r + 4.1665795894E-2f;
            p = p * r + 1.6666665459E-1f;
            p = p * r + 5.0000001201E-1f;
            y[j] = p * r * r + r + 1f;
        }
        // 2^n with n in [-126, 127]: e = n + 126 in [0, 253]; bits 0..6 first (the product stays
        // below 2^128), then bit 7 together with the bias 2^-126
        for (int j = 0; j < len; j++) {
            int e = (int) n[j] + 126;
            float s = y[j];
            s *= 1f + (e & 1);
            s *= 1f + ((e >> 1) & 1) * 3f;
            s *= 1f + ((e >> 2) & 1) * 15f;
            s *= 1f + ((e >> 3) & 1) * 255f;
            y[j] = s;
        }
        for (int j = 0; j < len; j++) {
            int e = (int) n[j] + 126;
            float s = y[j];
            // arithmetic selects, not ?: (which C2 leaves scalar); in float 2^32 - 1 rounds to
            // 2^32 and 1 + 2^32 to 2^32, so each factor is exactly 1 or the power of two
            s *= 1f + ((e >> 4) & 1) * 65535f;
            s *= 1f + ((e >> 5) & 1) * (0x1p32f - 1f);
            s *= 1f + ((e >> 6) & 1) * (0x1p64f - 1f);
            s *= 0x1p-126f + ((e >> 7) & 1) * (4f - 0x1p-126f);
            y[j] = s * keep[j];
        }
    }
}
