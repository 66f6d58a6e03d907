package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Pure-Java GEMM, the fallback when no native BLAS is installed (and the engine the tests check
 * against the reference when it is). Blocked in the manner of Goto and van de Geijn, "Anatomy of
 * High-Performance Matrix Multiplication" (ACM TOMS 2008), simplified: C is cut into
 * {@link #MC}×{@link #NC} tiles; for each tile, panels of op(A) ({@code MC×KC}) and op(B)
 * ({@code KC×NC}) are packed into row-major scratch with any transpose applied, and a 4-row
 * kernel accumulates {@code c_r[j] += a_rp * b_p[j]} for four rows r at once over j, the loop
 * C2 vectorises. Tiles of all products of the batch are spread over the backend's threads.
 *
 * <p>Dimension legend: {@code m} rows of C and op(A), {@code n} columns of C and op(B),
 * {@code k} the contracted dimension; {@code lda, ldb, ldc} the distances between rows.
 */
final class JavaGemm implements GemmEngine {

    static final int MC = 64;
    static final int NC = 256;
    static final int KC = 256;

    /** Multiply-adds a part should hold before another thread is worth waking. */
    private static final long PART_WORK = 1L << 18;

    private final Parallel parallel;
    private final String reason;

    /** {@code reason} says why this engine is in use, for {@code device()}. */
    JavaGemm(Parallel parallel, String reason) {
        this.parallel = parallel;
        this.reason = reason;
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     MemorySegment a, long aOffset, long strideA, int lda,
                     MemorySegment b, long bOffset, long strideB, int ldb,
                     float beta, MemorySegment c, long cOffset, long strideC, int ldc) {
        int rowTiles = (m + MC - 1) / MC;
        int colTiles = (n + NC - 1) / NC;
        long tiles = (long) rowTiles * colTiles;
        long tileWork = (long) Math.min(m, MC) * Math.min(n, NC) * k;
        long grain = Math.max(1, PART_WORK / tileWork);
        Product product = new Product(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (GemmEngine.disjointOutputs(batch, m, n, strideC, ldc)) {
            parallel.forRange(batch * tiles, grain, (from, to, scratch) -> {
                for (long t = from; t < to; t++) {
                    long i = t / tiles;
                    int tile = (int) (t % tiles);
                    product.tile(aOffset + i * strideA, bOffset + i * strideB, cOffset + i * strideC,
                            (tile / colTiles) * MC, (tile % colTiles) * NC, scratch);
                }
            });
        } else {
            // outputs overlap: the products must run one after another, as the loop in the contract
            for (int i = 0; i < batch; i++) {
                long aBase = aOffset + i * strideA;
                long bBase = bOffset + i * strideB;
                long cBase = cOffset + i * strideC;
                parallel.forRange(tiles, grain, (from, to, scratch) -> {
                    for (long t = from; t < to; t++) {
                        int tile = (int) t;
                        product.tile(aBase, bBase, cBase, (tile / colTiles) * MC, (tile % colTiles) * NC, scratch);
                    }
                });
            }
        }
    }

    /** The shape and operands of one call; {@link #tile} computes one tile of one product. */
    private record Product(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {

        /** C[i0 : i0+MC, j0 : j0+NC] of the product whose matrices start at aBase, bBase, cBase. */
        void tile(long aBase, long bBase, long cBase, int i0, int j0, Scratch scratch) {
            int mc = Math.min(MC, m - i0);
            int nc = Math.min(NC, n - j0);
            float[] ap = scratch.floats(0, MC * KC);                       // (mc, kc) panel of op(A)
            float[][] bp = scratch.rows(0, KC, NC);                        // (kc, nc) panel of op(B)
            float[][] ct = scratch.rows(1, MC, NC);                        // (mc, nc) accumulators
            float[] tmp = scratch.floats(1, Math.max(KC, Math.max(MC, NC)));
            for (int i = 0; i < mc; i++) {
                Arrays.fill(ct[i], 0, nc, 0f);
            }
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                packA(aBase, i0, p0, mc, kc, ap, tmp);
                packB(bBase, p0, j0, kc, nc, bp, tmp);
                kernel(ap, bp, ct, mc, kc, nc);
            }
            for (int i = 0; i < mc; i++) {
                long row = cBase + (long) (i0 + i) * ldc + j0;
                float[] cr = ct[i];
                if (beta == 0f) {
                    // C is not read: NaN there must not leak into the result
                    for (int j = 0; j < nc; j++) {
                        cr[j] *= alpha;
                    }
                } else {
                    Tiles.load(c, row, tmp, nc);
                    for (int j = 0; j < nc; j++) {
                        cr[j] = alpha * cr[j] + beta * tmp[j];
                    }
                }
                Tiles.store(cr, nc, c, row);
            }
        }

        /** ap[i*kc + p] = op(A)[i0+i, p0+p]; A is stored m×k, or k×m when transposed. */
        private void packA(long base, int i0, int p0, int mc, int kc, float[] ap, float[] tmp) {
            if (!transA) {
                for (int i = 0; i < mc; i++) {
                    MemorySegment.copy(a, Tiles.F32, (base + (long) (i0 + i) * lda + p0) * Float.BYTES, ap, i * kc, kc);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    Tiles.load(a, base + (long) (p0 + p) * lda + i0, tmp, mc);
                    for (int i = 0; i < mc; i++) {
                        ap[i * kc + p] = tmp[i];
                    }
                }
            }
        }

        /** bp[p][j] = op(B)[p0+p, j0+j]; B is stored k×n, or n×k when transposed. */
        private void packB(long base, int p0, int j0, int kc, int nc, float[][] bp, float[] tmp) {
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    Tiles.load(b, base + (long) (p0 + p) * ldb + j0, bp[p], nc);
                }
            } else {
                for (int j = 0; j < nc; j++) {
                    Tiles.load(b, base + (long) (j0 + j) * ldb + p0, tmp, kc);
                    for (int p = 0; p < kc; p++) {
                        bp[p][j] = tmp[p];
                    }
                }
            }
        }
    }

    /** ct[i][0:nc] += sum_p ap[i*kc + p] * bp[p][0:nc], four rows of C per pass over a row of B. */
    static void kernel(float[] ap, float[][] bp, float[][] ct, int mc, int kc, int nc) {
        int i = 0;
        for (; i + 4 <= mc; i += 4) {
            float[] c0 = ct[i];
            float[] c1 = ct[i + 1];
            float[] c2 = ct[i + 2];
            float[] c3 = ct[i + 3];
            int r0 = i * kc;
            for (int p = 0; p < kc; p++) {
                float a0 = ap[r0 + p];
                float a1 = ap[r0 + kc + p];
                float a2 = ap[r0 + 2 * kc + p];
                float a3 = ap[r0 + 3 * kc + p];
                float[] br = bp[p];
                for (int j = 0; j < nc; j++) {
                    float bj = br[j];
                    c0[j] += a0 * bj;
                    c1[j] += a1 * bj;
                    c2[j] += a2 * bj;
                    c3[j] += a3 * bj;
                }
            }
        }
        for (; i < mc; i++) {
            float[] c0 = ct[i];
            int r0 = i * kc;
            for (int p = 0; p < kc; p++) {
                float a0 = ap[r0 + p];
                float[] br = bp[p];
                for (int j = 0; j < nc; j++) {
                    c0[j] += a0 * br[j];
                }
            }
        }
    }

    @Override
    public String description() {
        return "pure-Java GEMM (" + reason + ")";
    }
}
