package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Causal multi-head self-attention (Vaswani et al., "Attention Is All You Need", 2017), with the
 * layout and math of llm.c's {@code attention_forward} / {@code attention_backward}: qkv holds,
 * per position, q at channels [0, C), k at [C, 2C), v at [2C, 3C); head h owns channels
 * [h·HS, (h+1)·HS) of each; scores are scaled by 1/sqrt(HS); position t attends to t2 ≤ t; att
 * keeps the softmax probabilities, zero above the diagonal.
 *
 * <p>Dimension legend: {@code B} batch, {@code T} time, {@code C} channels, {@code NH} heads,
 * {@code HS = C / NH} head size.
 *
 * <p>The products run as GEMMs on the engine in use, straight out of qkv: a head's q, k or v is
 * a (T, HS) matrix whose rows are 3C apart, and the heads of one sequence form a batch whose
 * matrices are HS apart. Measured here (B=4, T=256, C=768, NH=12, OpenBLAS on 2 threads) this
 * is several times faster than llm.c's per-(b, t, h) loops, which C2 runs at under 10 GFLOP/s,
 * even though the score GEMM also computes the masked upper triangle. Softmax (with
 * {@link FastMath#exp}) and its backward are row loops spread over the threads; the backward uses
 * {@code dpreatt = att * (datt - sum(att * datt))}, llm.c's double loop over (t2, t3) summed in
 * closed form.
 */
final class AttentionKernels {

    private final GemmEngine gemm;
    private final Parallel parallel;
    private final NativeMemory scratchMemory = new NativeMemory();

    AttentionKernels(GemmEngine gemm, Parallel parallel) {
        this.gemm = gemm;
        this.parallel = parallel;
    }

    /** qkv (B, T, 3C) → att (B, NH, T, T), out (B, T, C). */
    void attentionForward(MemorySegment qkv, MemorySegment att, MemorySegment out, int b, int t, int c, int nh) {
        int hs = c / nh;
        int c3 = 3 * c;
        long tt = (long) t * t;
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int bi = 0; bi < b; bi++) {
            long qkvBase = (long) bi * t * c3;                         // qkv[bi, 0, 0]
            // preatt (NH, T, T) = scale * q k^T, per head, written into att
            gemm.gemm(false, true, nh, t, t, hs, scale, qkv, qkvBase, hs, c3, qkv, qkvBase + c, hs, c3,
                    0f, att, bi * nh * tt, tt, t);
        }
        softmaxRows(att, (long) b * nh * t, t);
        for (int bi = 0; bi < b; bi++) {
            long qkvBase = (long) bi * t * c3;
            // out (T, HS) of each head = att (T, T) v (T, HS); zeros above the diagonal mask the future
            gemm.gemm(false, false, nh, t, hs, t, 1f, att, bi * nh * tt, tt, t, qkv, qkvBase + 2L * c, hs, c3,
                    0f, out, (long) bi * t * c, hs, c);
        }
    }

    /** dqkv (B, T, 3C) += the gradient of {@link #attentionForward} from dout (B, T, C). */
    void attentionBackward(MemorySegment dout, MemorySegment qkv, MemorySegment att, MemorySegment dqkv,
                           int b, int t, int c, int nh) {
        int hs = c / nh;
        int c3 = 3 * c;
        long tt = (long) t * t;
        float scale = (float) (1.0 / Math.sqrt(hs));
        NativeMemory.Block block = scratchMemory.allocate(nh * tt * Float.BYTES);
        try {
            MemorySegment datt = block.segment();                      // (NH, T, T), one sequence at a time
            for (int bi = 0; bi < b; bi++) {
                long qkvBase = (long) bi * t * c3;
                long attBase = bi * nh * tt;
                long doutBase = (long) bi * t * c;
                // through out = att v: datt = dout v^T; dv += att^T dout
                gemm.gemm(false, true, nh, t, t, hs, 1f, dout, doutBase, hs, c, qkv, qkvBase + 2L * c, hs, c3,
                        0f, datt, 0, tt, t);
                gemm.gemm(true, false, nh, t, hs, t, 1f, att, attBase, tt, t, dout, doutBase, hs, c,
                        1f, dqkv, qkvBase + 2L * c, hs, c3);
                // through the softmax and the scale: dpreatt, in place of datt
                softmaxBackwardRows(att, attBase, datt, (long) nh * t, t, scale);
                // through preatt = q k^T: dq += dpreatt k; dk += dpreatt^T q
                gemm.gemm(false, false, nh, t, hs, t, 1f, datt, 0, tt, t, qkv, qkvBase + c, hs, c3,
                        1f, dqkv, qkvBase, hs, c3);
                gemm.gemm(true, false, nh, t, hs, t, 1f, datt, 0, tt, t, qkv, qkvBase, hs, c3,
                        1f, dqkv, qkvBase + c, hs, c3);
            }
        } finally {
            scratchMemory.free(block);
        }
    }

    /** Causal softmax of rows (R, T) in place: row r is position t = r mod T and keeps [0, t]. */
    private void softmaxRows(MemorySegment att, long rows, int t) {
        parallel.forRange(rows, Tiles.rowGrain(t), (from, to, s) -> {
            float[] row = s.floats(0, t);
            float[] exponents = s.floats(1, t);
            float[] keep = s.floats(2, t);
            for (long r = from; r < to; r++) {
                int n = (int) (r % t) + 1;
                load(att, r * t, row, n);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    max = Math.max(max, row[j]);
                }
                for (int j = 0; j < n; j++) {
                    row[j] -= max;
                }
                FastMath.exp(row, row, n, exponents, keep);
                double sum = LayerNormKernels.sum(row, n);
                float inv = sum == 0 ? 0f : (float) (1.0 / sum);
                for (int j = 0; j < n; j++) {
                    row[j] *= inv;
                }
                for (int j = n; j < t; j++) {
                    row[j] = 0f;
                }
                store(row, t, att, r * t);
            }
        });
    }

    /**
     * d (R, T) = att * (d - sum(att * d)) * scale per row, in place, zero above the diagonal; att
     * rows start at {@code attBase}.
     */
    private void softmaxBackwardRows(MemorySegment att, long attBase, MemorySegment d, long rows, int t, float scale) {
        parallel.forRange(rows, Tiles.rowGrain(t), (from, to, s) -> {
            float[] a = s.floats(0, t);
            float[] g = s.floats(1, t);
            for (long r = from; r < to; r++) {
                int n = (int) (r % t) + 1;
                load(att, attBase + r * t, a, n);
                load(d, r * t, g, n);
                float weighted = (float) LayerNormKernels.dot(a, g, n);
                for (int j = 0; j < n; j++) {
                    g[j] = a[j] * (g[j] - weighted) * scale;
                }
                for (int j = n; j < t; j++) {
                    g[j] = 0f;
                }
                store(g, t, d, r * t);
            }
        });
    }
}
