package dev.cornerstone.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in double precision against an analytic gradient.
 * {@code f} maps the (double) inputs to a scalar; {@code analytic} is the gradient computed
 * by the code under test. Checks every element, or {@code maxChecks} elements drawn with a
 * fixed seed when the input is large.
 */
public final class GradCheck {

    /** Step of the central difference: small enough for truncation error ~h², large enough for double's rounding. */
    public static final double H = 1e-5;

    private GradCheck() {
    }

    /** A mismatch, for the failure message. */
    public record Mismatch(int index, double analytic, double numeric) {
    }

    public static List<Mismatch> check(double[] x, float[] analytic, ToDoubleFunction<double[]> f, int maxChecks,
                                       long seed) {
        if (analytic.length != x.length) {
            throw new IllegalArgumentException("gradient has " + analytic.length + " entries, input " + x.length);
        }
        int[] indices;
        if (x.length <= maxChecks) {
            indices = java.util.stream.IntStream.range(0, x.length).toArray();
        } else {
            SplittableRandom r = new SplittableRandom(seed);
            indices = r.ints(maxChecks, 0, x.length).toArray();
        }
        List<Mismatch> bad = new ArrayList<>();
        double[] probe = x.clone();
        for (int i : indices) {
            double orig = probe[i];
            probe[i] = orig + H;
            double fp = f.applyAsDouble(probe);
            probe[i] = orig - H;
            double fm = f.applyAsDouble(probe);
            probe[i] = orig;
            double numeric = (fp - fm) / (2 * H);
            if (!Tolerances.close(analytic[i], numeric, Tolerances.GRADIENT_CHECK, Tolerances.GRADIENT_CHECK_ABS)) {
                bad.add(new Mismatch(i, analytic[i], numeric));
            }
        }
        return bad;
    }

    public static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
