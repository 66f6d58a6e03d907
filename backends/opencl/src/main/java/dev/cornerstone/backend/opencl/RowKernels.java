package dev.cornerstone.backend.opencl;

/**
 * Kernels that give each work-item a row or a column: LayerNorm (layernorm.cl), the causal
 * softmax of attention (attention.cl), embeddings (embedding.cl) and the fused softmax
 * cross-entropy (crossentropy.cl).
 */
final class RowKernels {

    /** Work-items per group for kernels that give each work-item a whole row: small, for balance. */
    static final int ROW_LOCAL = 16;
    static final int LOCAL = 64;
    /** Work-items per group for kernels that give each work-item 16 columns: few, for balance. */
    static final int COLUMN_LOCAL = 4;

    private final ClContext cl;

    RowKernels(ClContext cl) {
        this.cl = cl;
    }

    void layerNormForward(long x, long weight, long bias, long out, long mean, long rstd, int rows, int c, float eps) {
        cl.launch("layernorm.cl", "", "layernorm_forward").mem(x).mem(weight).mem(bias).mem(out).mem(mean).mem(rstd)
                .i(c).i(rows).f(eps).run(rows, ROW_LOCAL);
    }

    void layerNormBackward(long dout, long x, long weight, long mean, long rstd, long dx, long dweight, long dbias,
                           int rows, int c) {
        cl.launch("layernorm.cl", "", "layernorm_backward_dx").mem(dout).mem(x).mem(weight).mem(mean).mem(rstd)
                .mem(dx).i(c).i(rows).run(rows, ROW_LOCAL);
        cl.launch("layernorm.cl", "", "layernorm_backward_params").mem(dout).mem(x).mem(mean).mem(rstd)
                .mem(dweight).mem(dbias).i(c).i(rows).run(ElementwiseKernels.chunks(c), COLUMN_LOCAL);
    }

    /** Rows of B NH T scores, each softmaxed over its first t+1 entries. */
    void softmaxCausal(long att, int t, int rows) {
        cl.launch("attention.cl", "", "softmax_causal").mem(att).i(t).i(rows).run(rows, ROW_LOCAL);
    }

    void softmaxCausalBackward(long att, long datt, int t, int rows, float scale) {
        cl.launch("attention.cl", "", "softmax_causal_backward").mem(att).mem(datt).i(t).i(rows).f(scale)
                .run(rows, ROW_LOCAL);
    }

    void embeddingForward(long ids, long table, long out, int n, int c) {
        cl.launch("embedding.cl", "", "embedding_forward").mem(ids).mem(table).mem(out).i(c)
                .run(new long[] {c, n}, new long[] {LOCAL, 1});
    }

    void embeddingBackward(long ids, long dout, long dtable, int n, int c) {
        cl.launch("embedding.cl", "", "embedding_backward").mem(ids).mem(dout).mem(dtable).i(c).i(n)
                .run(ElementwiseKernels.chunks(c), COLUMN_LOCAL);
    }

    void crossEntropyForward(long logits, long targets, long probs, long losses, int rows, int v) {
        cl.launch("crossentropy.cl", "", "cross_entropy_forward").mem(logits).mem(targets).mem(probs).mem(losses)
                .i(v).i(rows).run(rows, ROW_LOCAL);
    }

    void crossEntropyBackward(long probs, long targets, long dlosses, long dlogits, int rows, int v) {
        cl.launch("crossentropy.cl", "", "cross_entropy_backward").mem(probs).mem(targets).mem(dlosses)
                .mem(dlogits).i(v).run(new long[] {v, rows}, new long[] {LOCAL, 1});
    }
}
