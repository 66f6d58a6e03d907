package dev.cornerstone.backend.cpu;

import dev.cornerstone.testkit.ReferenceKernels;

/**
 * Named tolerances for comparing the fast kernels with {@link ReferenceKernels}. A value passes
 * when {@code |actual - expected| <= atol + rtol * |expected|}.
 */
final class Tolerances {

    /**
     * Element-wise F32: one or a few float roundings per element against a reference computed in
     * double and rounded once (float's unit roundoff is 6e-8); GELU's vectorised tanh adds at most
     * 4.1e-7 absolute (FastMath), which the absolute term covers where GELU is near zero.
     */
    static final double F32_RTOL = 1e-5;
    static final double F32_ATOL = 1e-6;

    /**
     * GELU backward: it takes sech^2 u as 1 - tanh^2 u, which cancels as |u| grows, so the fast
     * tanh's absolute error (at most 4.1e-7) reaches the result multiplied by up to
     * |x| sqrt(2/pi) (1 + 0.134 x^2) / 2 (about 14 at |x| = 6). Measured over x in [-10, 10]
     * with dout = 1: at most 4.2e-6 absolute; this allows 2.4 times that.
     */
    static final double GELU_BACKWARD_ATOL = 1e-5;

    /**
     * GEMM: a float accumulation of k products in another order than the reference's double sum.
     * Its error grows like sqrt(k) times the magnitude of the terms, so the absolute term scales
     * with the typical size of such a dot product, sqrt(k)/3 for inputs uniform in [-1, 1]
     * ({@link #gemmAtol(int)}).
     */
    static final double GEMM_RTOL = 1e-4;

    /**
     * Row and column reductions in float before a double combine (layernorm backward, attention,
     * cross-entropy, sumRows): longer float sums than element-wise kernels, in another order than
     * the reference.
     */
    static final double REDUCTION_RTOL = 1e-4;
    static final double REDUCTION_ATOL = 1e-5;

    /** BF16 keeps 8 significant bits: one rounding is at most 2^-9 relative. */
    static final double BF16_RTOL = 1e-2;

    private Tolerances() {
    }

    static double gemmAtol(int k) {
        return GEMM_RTOL * Math.max(1.0, Math.sqrt(k) / 3.0);
    }
}
