package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * {@code ComputeBackend.gemm}: handles the degenerate cases (an empty C, {@code k == 0},
 * {@code alpha == 0}: {@code C = beta * C} without reading A or B, as BLAS does) and hands the
 * rest to the engine in use, OpenBLAS or the pure-Java fallback.
 *
 * <p>Dimension legend: {@code m} rows of C and op(A), {@code n} columns of C and op(B),
 * {@code k} the contracted dimension; all matrices dense and row-major (C_i is m×n, rows n apart).
 */
final class GemmKernels {

    private final GemmEngine engine;
    private final ElementwiseKernels elementwise;

    GemmKernels(GemmEngine engine, ElementwiseKernels elementwise) {
        this.engine = engine;
        this.elementwise = elementwise;
    }

    GemmEngine engine() {
        return engine;
    }

    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
              MemorySegment a, long aOffset, long strideA, MemorySegment b, long bOffset, long strideB,
              float beta, MemorySegment c, long cOffset, long strideC) {
        if (batch <= 0 || m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0 || alpha == 0f) {
            long size = (long) m * n;
            for (int i = 0; i < batch; i++) {
                long base = cOffset + i * strideC;
                if (beta == 0f) {
                    elementwise.fillRange(c, base, size, 0f);
                } else if (beta != 1f) {
                    elementwise.scaleRange(c, base, size, beta);
                }
            }
            return;
        }
        // dense matrices: rows as long as the stored matrix is wide
        engine.gemm(transA, transB, batch, m, n, k, alpha, a, aOffset, strideA, transA ? m : k,
                b, bOffset, strideB, transB ? k : n, beta, c, cOffset, strideC, n);
    }
}
