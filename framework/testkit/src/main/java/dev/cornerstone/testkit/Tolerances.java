package dev.cornerstone.testkit;

/**
 * Named tolerances (netlib's {@code sepsilon}, llm.c's 1e-5 / 1e-2): relative error allowed
 * when comparing, with an absolute floor for values near zero. A value passes when
 * {@code |actual - expected| <= atol + rtol * |expected|}.
 */
public final class Tolerances {

    // ---- F32 ---------------------------------------------------------------------------------

    /**
     * fp32 kernel against its reference, element-wise ops: one or a few float roundings per
     * element against a reference computed in double and rounded once (float's unit roundoff is
     * 6e-8), and a few ulps more for a device's {@code tanh} or {@code exp} (OpenCL allows 5 and 3).
     */
    public static final double F32_ELEMENTWISE = 1e-5;
    /** Absolute floor of {@link #F32_ELEMENTWISE}, for results near zero (GELU of a large negative x). */
    public static final double F32_ELEMENTWISE_ABS = 1e-6;
    /**
     * GELU backward: sech^2 u taken as 1 - tanh^2 u, or from cosh, cancels as |u| grows, so a
     * float tanh's absolute error reaches the result multiplied by up to |x| sqrt(2/pi)
     * (1 + 0.134 x^2) / 2 (about 14 at |x| = 6).
     */
    public static final double F32_GELU_BACKWARD_ABS = 1e-5;
    /**
     * fp32 kernel against a reference, when the kernel sums many products (GEMM, reductions,
     * softmax rows, layernorm statistics) in float and in another order than the reference's
     * double sum.
     */
    public static final double F32_ACCUMULATED = 1e-4;
    /** Absolute floor of {@link #F32_ACCUMULATED} for reductions of values of order 1. */
    public static final double F32_ACCUMULATED_ABS = 1e-5;
    /**
     * A whole-tensor sum ({@code sum}, {@code sumOfSquares}) against the reference's double sum,
     * relative to the sum of the magnitudes: partial sums in float, combined in another order.
     */
    public static final double F32_SUM = 1e-5;
    /**
     * Per-step loss of a short training run against the reference backend's: every kernel's
     * rounding, compounded by the optimizer over the steps. Measured over the 10 AdamW steps of
     * the parity GPT: at most 3.8e-7 on the cpu backend, 1.9e-7 on opencl (PoCL); the whole GPT
     * bundle over 24 steps on opencl against cpu stays within it too. Loose on purpose: this
     * checks how kernels compose; each kernel is held to the tighter tolerances above.
     */
    public static final double F32_TRAINING_LOSS = 1e-3;

    // ---- BF16 --------------------------------------------------------------------------------

    /** bf16 against fp32: 8 bits of mantissa, one rounding is at most 2^-9 relative. */
    public static final double BF16 = 1e-2;

    // ---- gradient checks ---------------------------------------------------------------------

    /**
     * fp32 analytic gradient against a central finite difference computed in double: the
     * difference is exact to ~1e-9, so the error is the fp32 gradient's own rounding.
     */
    public static final double GRADIENT_CHECK = 2e-3;
    /** Absolute floor under which differences count as zero in gradient checks. */
    public static final double GRADIENT_CHECK_ABS = 2e-5;

    private Tolerances() {
    }

    /**
     * Absolute floor of a GEMM with inner dimension {@code k} on inputs uniform in [-1, 1]: a
     * float accumulation's error grows like sqrt(k) times the size of the terms, and such a dot
     * product is about sqrt(k)/3 in size.
     */
    public static double gemmAbs(int k) {
        return F32_ACCUMULATED * Math.max(1.0, Math.sqrt(k) / 3.0);
    }

    /** True when {@code actual} is within {@code rtol} of {@code expected} (relative, with an absolute floor). */
    public static boolean close(double actual, double expected, double rtol, double atol) {
        return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
    }
}
