package dev.cornerstone.backend.opencl;

/**
 * GEMM on the device (gemm.cl): pack op(B) into 32-column panels (and A^T into row panels), then
 * one work-item per {@value #MR} x 32 tile of C, reading A as stored where it is. Also serves attention, whose products take their operands
 * straight out of qkv with leading dimensions and a two-level (batch, head) batch.
 */
final class GemmKernels {

    /**
     * Rows of a register tile: 2 MR float16 accumulators (16 of AVX-512's 32 registers). On PoCL
     * here, per CPU-second at n = 1024: MR 8 258 GFLOP, 6 242, 4 215, 12 198 (12 spills).
     */
    static final int MR = 8;
    /** Columns of a register tile: two float16 vectors. */
    static final int NR = 32;
    private static final String PROGRAM = "gemm.cl";
    /** Row tiles per work-item ({@code TILES} in gemm.cl); {@code -Dcornerstone.opencl.gemm.tiles} overrides it. */
    static final int TILES = Integer.getInteger("cornerstone.opencl.gemm.tiles", 1);
    private static final String OPTIONS = "-DMR=" + MR + " -DTILES=" + TILES;
    private static final int PACK_LOCAL = 64;
    /** Rows of A^T each gemm_pack_at work-item moves (PACK_ROWS in gemm.cl), in groups of one work-item. */
    private static final int PACK_ROWS = 16;
    private static final int PACK_AT_LOCAL = 1;

    private final ClContext cl;

    GemmKernels(ClContext cl) {
        this.cl = cl;
    }

    /** An operand: buffer, element offset, leading dimension, and element strides between outer and inner batches. */
    record Operand(long buffer, long offset, int ld, long outerStride, long innerStride) {
    }

    /**
     * For each z = outer * batchInner + inner: {@code C_z = alpha op(A_z) op(B_z) + beta C_z}, op(A) m x k,
     * op(B) k x n; A_z stored m x k (k x m when transA) with leading dimension a.ld, and so on.
     * With beta 0 the old C is not read.
     */
    void gemm(boolean transA, boolean transB, int batchOuter, int batchInner, int m, int n, int k, float alpha,
              Operand a, Operand b, float beta, Operand c) {
        int batch = batchOuter * batchInner;
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (k == 0) {
            cl.launch(PROGRAM, OPTIONS, "gemm_scale").mem(c.buffer()).l(c.offset()).i(c.ld()).l(c.outerStride())
                    .l(c.innerStride()).i(batchInner).i(m).i(n).f(beta)
                    .run(new long[] {n, m, batch}, new long[] {PACK_LOCAL, 1, 1});
            return;
        }
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (n + NR - 1) / NR;
        long bpBytes = 4L * batch * nPanels * NR * k;
        long apBytes = transA ? 4L * batch * mPanels * MR * k : 0;
        long bp = cl.allocate(bpBytes, "GEMM packing scratch", "");
        long ap = 0;
        try {
            cl.launch(PROGRAM, OPTIONS, "gemm_pack_b").mem(b.buffer()).l(b.offset()).i(b.ld()).l(b.outerStride())
                    .l(b.innerStride()).i(batchInner).i(transB ? 1 : 0).i(k).i(n).mem(bp)
                    .run(new long[] {k, nPanels, batch}, new long[] {PACK_LOCAL, 1, 1});
            Launch micro;
            if (transA) {
                ap = cl.allocate(apBytes, "GEMM packing scratch", "");
                cl.launch(PROGRAM, OPTIONS, "gemm_pack_at").mem(a.buffer()).l(a.offset()).i(a.ld())
                        .l(a.outerStride()).l(a.innerStride()).i(batchInner).i(m).i(k).mem(ap)
                        .run(new long[] {mPanels, (k + PACK_ROWS - 1) / PACK_ROWS, batch}, new long[] {PACK_AT_LOCAL, 1, 1});
                micro = cl.launch(PROGRAM, OPTIONS, "gemm_micro_p").mem(ap).l(0).i(0).l(0).l(0);
            } else {
                micro = cl.launch(PROGRAM, OPTIONS, "gemm_micro_n").mem(a.buffer()).l(a.offset()).i(a.ld())
                        .l(a.outerStride()).l(a.innerStride());
            }
            micro.mem(bp).i(m).i(n).i(k).f(alpha).f(beta)
                    .mem(c.buffer()).l(c.offset()).i(c.ld()).l(c.outerStride()).l(c.innerStride()).i(batchInner)
                    .run(new long[] {(mPanels + TILES - 1) / TILES, nPanels, batch}, new long[] {1, 1, 1});
        } finally {
            // The in-order queue runs the kernels above before any later user of these buffers.
            cl.free(bp, BufferPool.capacity(bpBytes));
            if (ap != 0) {
                cl.free(ap, BufferPool.capacity(apBytes));
            }
        }
    }
}
