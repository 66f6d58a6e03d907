package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Who multiplies matrices: OpenBLAS ({@link OpenBlasGemm}) or the pure-Java fallback
 * ({@link JavaGemm}). Callers ({@link GemmKernels}, {@link AttentionKernels}) pass
 * {@code batch, m, n, k >= 1} and {@code alpha != 0}; {@link GemmKernels} handles the
 * degenerate cases.
 *
 * <p>Layout: row-major with leading dimensions, as BLAS: for {@code i < batch}, {@code A_i}
 * starts at element {@code aOffset + i * strideA} and its rows are {@code lda} elements apart;
 * it is stored m×k, or k×m when {@code transA}; likewise {@code B_i} (k×n, or n×k when
 * {@code transB}) and {@code C_i} (m×n). With {@code beta == 0} C is not read.
 */
interface GemmEngine {

    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
              MemorySegment a, long aOffset, long strideA, int lda,
              MemorySegment b, long bOffset, long strideB, int ldb,
              float beta, MemorySegment c, long cOffset, long strideC, int ldc);

    /** For {@code device()}. */
    String description();

    /**
     * Whether the outputs of the batch are disjoint, so that the products may run in any order
     * or at once: whole matrices apart, or side by side within the rows (attention heads).
     */
    static boolean disjointOutputs(int batch, int m, int n, long strideC, int ldc) {
        if (batch == 1) {
            return true;
        }
        long stride = Math.abs(strideC);
        boolean blocksApart = stride >= (long) (m - 1) * ldc + n;
        boolean sideBySide = stride >= n && (batch - 1) * stride + n <= ldc;
        return blocksApart || sideBySide;
    }
}
