package dev.cornerstone.testkit;

import static org.assertj.core.api.Assertions.fail;

/**
 * Element-wise comparison with a relative and an absolute tolerance: a value passes when
 * {@code |actual - expected| <= atol + rtol * |expected|}; NaN matches only NaN and an infinity
 * only itself. A failure reports how many elements are off and the worst one.
 */
public final class Approx {

    private Approx() {
    }

    public static void assertClose(float[] actual, float[] expected, double rtol, double atol, String what) {
        if (actual.length != expected.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        int failures = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean nanMismatch = Double.isNaN(e) != Double.isNaN(a);
            if (!nanMismatch && (Double.isNaN(e) || a == e)) {
                continue;                                        // both NaN, or equal (infinities too)
            }
            double allowed = atol + rtol * Math.abs(e);
            double err = Math.abs(a - e);
            if (nanMismatch || !(err <= allowed)) {
                failures++;
                double excess = nanMismatch ? Double.POSITIVE_INFINITY : err / allowed;
                if (worst < 0 || excess > worstExcess) {
                    worstExcess = excess;
                    worst = i;
                }
            }
        }
        if (failures > 0) {
            fail(String.format("%s: %d of %d elements outside rtol %.1e atol %.1e; worst at %d: %s, expected %s",
                    what, failures, actual.length, rtol, atol, worst, actual[worst], expected[worst]));
        }
    }

    public static void assertClose(double actual, double expected, double rtol, double atol, String what) {
        double err = Math.abs(actual - expected);
        if (Double.isNaN(actual) != Double.isNaN(expected) || !(actual == expected || err <= atol + rtol * Math.abs(expected))) {
            fail(String.format("%s: %s, expected %s (rtol %.1e atol %.1e)", what, actual, expected, rtol, atol));
        }
    }
}
