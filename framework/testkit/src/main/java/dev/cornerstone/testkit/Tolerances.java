package dev.cornerstone.testkit;

/**
 * Named tolerances (netlib's {@code sepsilon}, llm.c's 1e-5 / 1e-2): relative error allowed
 * when comparing, with an absolute floor for values near zero.
 */
public final class Tolerances {

    /** fp32 kernel against its fp32 reference, element-wise ops: a few ulps. */
    public static final double F32_ELEMENTWISE = 1e-5;
    /** fp32 kernel against a reference, when the kernel sums many products (GEMM, reductions, softmax rows). */
    public static final double F32_ACCUMULATED = 1e-4;
    /** bf16 against fp32: 8 bits of mantissa. */
    public static final double BF16 = 1e-2;
    /**
     * fp32 analytic gradient against a central finite difference computed in double: the
     * difference is exact to ~1e-9, so the error is the fp32 gradient's own rounding.
     */
    public static final double GRADIENT_CHECK = 2e-3;
    /** Absolute floor under which differences count as zero in gradient checks. */
    public static final double GRADIENT_CHECK_ABS = 2e-5;

    private Tolerances() {
    }

    /** True when {@code actual} is within {@code rtol} of {@code expected} (relative, with an absolute floor). */
    public static boolean close(double actual, double expected, double rtol, double atol) {
        return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
    }
}
