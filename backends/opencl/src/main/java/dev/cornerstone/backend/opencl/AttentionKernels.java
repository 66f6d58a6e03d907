package dev.cornerstone.backend.opencl;

import dev.cornerstone.backend.opencl.GemmKernels.Operand;

/**
 * Causal multi-head self-attention (Vaswani et al. 2017) as batched GEMMs over (batch, head),
 * reading q, k and v straight out of qkv (B, T, 3C) through leading dimensions, around the causal
 * softmax kernels. B batch, T time, C channels, NH heads, HS = C / NH.
 *
 * <pre>
 * forward:  att = softmax_causal(Q K^T / sqrt(HS))   (B, NH, T, T)
 *           out[:, :, h] = att V                      (B, T, C)
 * backward: datt = dout V^T;  dV += att^T dout
 *           dpre = att (datt - rowsum(att datt)) / sqrt(HS)
 *           dQ += dpre K;  dK += dpre^T Q
 * </pre>
 */
final class AttentionKernels {

    private final ClContext cl;
    private final GemmKernels gemm;
    private final RowKernels rows;

    AttentionKernels(ClContext cl, GemmKernels gemm, RowKernels rows) {
        this.cl = cl;
        this.gemm = gemm;
        this.rows = rows;
    }

    /** Q, K or V of head h in batch b: rows of HS at channel offset part * C + h * HS, leading dimension 3C. */
    private static Operand part(long qkv, int part, int t, int c, int nh) {
        int hs = c / nh;
        return new Operand(qkv, (long) part * c, 3 * c, (long) t * 3 * c, hs);
    }

    /** att (B, NH, T, T): one T x T matrix per (batch, head). */
    private static Operand scores(long att, int t, int nh) {
        return new Operand(att, 0, t, (long) nh * t * t, (long) t * t);
    }

    /** out or dout (B, T, C): head h's HS columns, leading dimension C. */
    private static Operand heads(long out, int t, int c, int nh) {
        return new Operand(out, 0, c, (long) t * c, c / nh);
    }

    void forward(long qkv, long att, long out, int b, int t, int c, int nh) {
        int hs = c / nh;
        float scale = (float) (1.0 / Math.sqrt(hs));
        gemm.gemm(false, true, b, nh, t, t, hs, scale, part(qkv, 0, t, c, nh), part(qkv, 1, t, c, nh), 0f,
                scores(att, t, nh));
        rows.softmaxCausal(att, t, b * nh * t);
        gemm.gemm(false, false, b, nh, t, hs, t, 1f, scores(att, t, nh), part(qkv, 2, t, c, nh), 0f,
                heads(out, t, c, nh));
    }

    void backward(long dout, long qkv, long att, long dqkv, int b, int t, int c, int nh) {
        int hs = c / nh;
        float scale = (float) (1.0 / Math.sqrt(hs));
        long bytes = 4L * b * nh * t * t;
        long datt = cl.allocate(bytes, "attention backward scratch", "");
        try {
            // datt = dout V^T ; dV += att^T dout
            gemm.gemm(false, true, b, nh, t, t, hs, 1f, heads(dout, t, c, nh), part(qkv, 2, t, c, nh), 0f,
                    scores(datt, t, nh));
            gemm.gemm(true, false, b, nh, t, hs, t, 1f, scores(att, t, nh), heads(dout, t, c, nh), 1f,
                    part(dqkv, 2, t, c, nh));
            rows.softmaxCausalBackward(att, datt, t, b * nh * t, scale);
            // dQ += dpre K ; dK += dpre^T Q
            gemm.gemm(false, false, b, nh, t, hs, t, 1f, scores(datt, t, nh), part(qkv, 1, t, c, nh), 1f,
                    part(dqkv, 0, t, c, nh));
            gemm.gemm(true, false, b, nh, t, hs, t, 1f, scores(datt, t, nh), part(qkv, 0, t, c, nh), 1f,
                    part(dqkv, 1, t, c, nh));
        } finally {
            cl.free(datt, BufferPool.capacity(bytes));
        }
    }
}
