package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * GEMM through {@code cblas_sgemm}. A batch is a loop of calls with pointer offsets, and
 * OpenBLAS spreads each large product over its own threads (set to the backend's count).
 * Products of at most {@link #SINGLE_THREAD_WORK} multiply-adds, which OpenBLAS runs on the
 * calling thread anyway, are instead spread over the backend's threads when there is a batch
 * of them (attention heads, for example), several calls running at once: measured here with a
 * batch of 48 products of 64×64×64, about 90 GFLOP/s against about 60 for the plain loop.
 */
final class OpenBlasGemm implements GemmEngine {

    /**
     * m·n·k at or below which OpenBLAS 0.3 computes on one thread (its SMP threshold, 65536 times
     * GEMM_MULTITHREAD_THRESHOLD = 4); concurrent calls of that size never meet in its thread server.
     */
    static final long SINGLE_THREAD_WORK = 4L * 65536;

    /** Multiply-adds a part of a parallel batch should hold before another thread is worth waking. */
    private static final long PART_WORK = 1L << 20;

    private final NativeBlas blas;
    private final Parallel parallel;

    OpenBlasGemm(NativeBlas blas, Parallel parallel) {
        this.blas = blas;
        this.parallel = parallel;
        blas.setThreads(parallel.threads());
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     MemorySegment a, long aOffset, long strideA, int lda,
                     MemorySegment b, long bOffset, long strideB, int ldb,
                     float beta, MemorySegment c, long cOffset, long strideC, int ldc) {
        long work = (long) m * n * k;
        if (batch > 1 && work <= SINGLE_THREAD_WORK && GemmEngine.disjointOutputs(batch, m, n, strideC, ldc)) {
            parallel.forRange(batch, Math.max(1, PART_WORK / work), (from, to, scratch) -> {
                for (long i = from; i < to; i++) {
                    blas.sgemm(transA, transB, m, n, k, alpha, at(a, aOffset + i * strideA), lda,
                            at(b, bOffset + i * strideB), ldb, beta, at(c, cOffset + i * strideC), ldc);
                }
            });
            return;
        }
        for (int i = 0; i < batch; i++) {
            blas.sgemm(transA, transB, m, n, k, alpha, at(a, aOffset + i * strideA), lda,
                    at(b, bOffset + i * strideB), ldb, beta, at(c, cOffset + i * strideC), ldc);
        }
    }

    private static MemorySegment at(MemorySegment s, long element) {
        return MemorySegment.ofAddress(s.address() + element * Float.BYTES);
    }

    @Override
    public String description() {
        return blas.description();
    }
}
