package dev.cornerstone.backend.cpu;


import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

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
 * even though the score GEMM also computes the masked upper triangle. When one head's product is
 * small (see {@link #perSequence}) the sequences are spread over the threads, each doing its
 * products and softmax rows on one thread; otherwise the products thread inside the GEMM and
 * the softmax rows are spread over the threads. Softmax and its backward use the Vector API
 * ({@link Vec#exp}); the backward uses
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

    /**
     * Whether the sequences are spread over the threads, each computing its heads' products on
     * its own thread: when one product is small enough that OpenBLAS would run it on the calling
     * thread anyway (at GPT config A's T 64, HS 32, one sequence at a time left a thread idle).
     * Larger products are threaded inside the GEMM instead.
     */
    private static boolean perSequence(int t, int hs) {
        return (long) t * t * hs <= OpenBlasGemm.SINGLE_THREAD_WORK;
    }

    /** qkv (B, T, 3C) → att (B, NH, T, T), out (B, T, C). */
    void attentionForward(MemorySegment qkv, MemorySegment att, MemorySegment out, int b, int t, int c, int nh) {
        int hs = c / nh;
        if (perSequence(t, hs)) {
            parallel.forRange(b, 1, (from, to, s) -> {
                for (long bi = from; bi < to; bi++) {
                    forwardSequence(qkv, att, out, (int) bi, t, c, nh, true);
                }
            });
            return;
        }
        for (int bi = 0; bi < b; bi++) {
            forwardSequence(qkv, att, out, bi, t, c, nh, false);
        }
    }

    /** One sequence's heads: preatt, softmax (row loops spread over the threads when {@code inline} is false), out. */
    private void forwardSequence(MemorySegment qkv, MemorySegment att, MemorySegment out, int bi, int t, int c,
                                 int nh, boolean inline) {
        int hs = c / nh;
        int c3 = 3 * c;
        long tt = (long) t * t;
        float scale = (float) (1.0 / Math.sqrt(hs));
        long qkvBase = (long) bi * t * c3;                             // qkv[bi, 0, 0]
        long attBase = bi * nh * tt;
        // preatt (NH, T, T) = scale * q k^T, per head, written into att
        gemm.gemm(false, true, nh, t, t, hs, scale, qkv, qkvBase, hs, c3, qkv, qkvBase + c, hs, c3,
                0f, att, attBase, tt, t);
        if (inline) {
            softmaxRows(att, attBase / t, attBase / t + (long) nh * t, t);
        } else {
            parallel.forRange((long) nh * t, Tiles.rowGrain(t), (from, to, s) ->
                    softmaxRows(att, attBase / t + from, attBase / t + to, t));
        }
        // out (T, HS) of each head = att (T, T) v (T, HS); zeros above the diagonal mask the future
        gemm.gemm(false, false, nh, t, hs, t, 1f, att, attBase, tt, t, qkv, qkvBase + 2L * c, hs, c3,
                0f, out, (long) bi * t * c, hs, c);
    }

    /** dqkv (B, T, 3C) += the gradient of {@link #attentionForward} from dout (B, T, C). */
    void attentionBackward(MemorySegment dout, MemorySegment qkv, MemorySegment att, MemorySegment dqkv,
                           int b, int t, int c, int nh) {
        int hs = c / nh;
        long bytes = (long) nh * t * t * Float.BYTES;
        if (perSequence(t, hs)) {
            int parts = parallel.parts(b, 1);
            parallel.forParts(parts, b, (part, from, to, s) -> {
                NativeMemory.Block block = scratchMemory.allocate(bytes);
                try {
                    for (long bi = from; bi < to; bi++) {
                        backwardSequence(dout, qkv, att, dqkv, block.segment(), (int) bi, t, c, nh, true);
                    }
                } finally {
                    scratchMemory.free(block);
                }
            });
            return;
        }
        NativeMemory.Block block = scratchMemory.allocate(bytes);
        try {
            for (int bi = 0; bi < b; bi++) {
                backwardSequence(dout, qkv, att, dqkv, block.segment(), bi, t, c, nh, false);
            }
        } finally {
            scratchMemory.free(block);
        }
    }

    /** One sequence's heads; {@code datt} is (NH, T, T) scratch. */
    private void backwardSequence(MemorySegment dout, MemorySegment qkv, MemorySegment att, MemorySegment dqkv,
                                  MemorySegment datt, int bi, int t, int c, int nh, boolean inline) {
        int hs = c / nh;
        int c3 = 3 * c;
        long tt = (long) t * t;
        float scale = (float) (1.0 / Math.sqrt(hs));
        long qkvBase = (long) bi * t * c3;
        long attBase = bi * nh * tt;
        long doutBase = (long) bi * t * c;
        // through out = att v: datt = dout v^T; dv += att^T dout
        gemm.gemm(false, true, nh, t, t, hs, 1f, dout, doutBase, hs, c, qkv, qkvBase + 2L * c, hs, c3,
                0f, datt, 0, tt, t);
        gemm.gemm(true, false, nh, t, hs, t, 1f, att, attBase, tt, t, dout, doutBase, hs, c,
                1f, dqkv, qkvBase + 2L * c, hs, c3);
        // through the softmax and the scale: dpreatt, in place of datt
        long rows = (long) nh * t;
        if (inline) {
            softmaxBackwardRows(att, attBase, datt, 0, rows, t, scale);
        } else {
            parallel.forRange(rows, Tiles.rowGrain(t), (from, to, s) ->
                    softmaxBackwardRows(att, attBase, datt, from, to, t, scale));
        }
        // through preatt = q k^T: dq += dpreatt k; dk += dpreatt^T q
        gemm.gemm(false, false, nh, t, hs, t, 1f, datt, 0, tt, t, qkv, qkvBase + c, hs, c3,
                1f, dqkv, qkvBase, hs, c3);
        gemm.gemm(true, false, nh, t, hs, t, 1f, datt, 0, tt, t, qkv, qkvBase, hs, c3,
                1f, dqkv, qkvBase + c, hs, c3);
    }

    /**
     * Causal softmax of rows [from, to) of att seen as (R, T), in place: row r is position
     * t = r mod T and keeps [0, t], the rest set to zero.
     */
    private static void softmaxRows(MemorySegment att, long from, long to, int t) {
        for (long r = from; r < to; r++) {
            int n = (int) (r % t) + 1;
            long base = r * t;
            float total = expRow(att, base, n, Vec.max(att, base, n));
            Vec.scale(att, base, n, total == 0 ? 0f : 1f / total);
            att.asSlice((base + n) * Float.BYTES, (long) (t - n) * Float.BYTES).fill((byte) 0);
        }
    }

    /** {@code m[base + j] = exp(m[base + j] - max)} for j < n; returns their sum. */
    static float expRow(MemorySegment m, long base, int n, float max) {
        FloatVector mv = FloatVector.broadcast(Vec.S, max);
        FloatVector sum = FloatVector.zero(Vec.S);
        int bound = Vec.loopBound(n);
        for (int j = 0; j < bound; j += Vec.L) {
            long off = (base + j) * Float.BYTES;
            FloatVector e = Vec.exp(FloatVector.fromMemorySegment(Vec.S, m, off, Vec.NATIVE).sub(mv));
            e.intoMemorySegment(m, off, Vec.NATIVE);
            sum = sum.add(e);
        }
        float total = Vec.sumLanes(sum);
        for (int j = bound; j < n; j++) {
            float e = (float) Math.exp(m.getAtIndex(Tiles.F32, base + j) - max);
            m.setAtIndex(Tiles.F32, base + j, e);
            total += e;
        }
        return total;
    }

    /**
     * Rows [from, to) of d (R, T) = att * (d - sum(att * d)) * scale, in place, zero above the
     * diagonal; att rows start at {@code attBase}.
     */
    private static void softmaxBackwardRows(MemorySegment att, long attBase, MemorySegment d, long from, long to,
                                            int t, float scale) {
        for (long r = from; r < to; r++) {
            int n = (int) (r % t) + 1;
            long base = r * t;
            backwardRow(att, attBase + base, d, base, n, Vec.dot(att, attBase + base, d, base, n), scale);
            d.asSlice((base + n) * Float.BYTES, (long) (t - n) * Float.BYTES).fill((byte) 0);
        }
    }

    /** {@code d[di + j] = a[ai + j] * (d[di + j] - weighted) * scale} for j < n. */
    private static void backwardRow(MemorySegment a, long ai, MemorySegment d, long di, int n, float weighted,
                                    float scale) {
        FloatVector w = FloatVector.broadcast(Vec.S, weighted);
        FloatVector sv = FloatVector.broadcast(Vec.S, scale);
        int bound = Vec.loopBound(n);
        for (int j = 0; j < bound; j += Vec.L) {
            long doff = (di + j) * Float.BYTES;
            FloatVector.fromMemorySegment(Vec.S, a, (ai + j) * Float.BYTES, Vec.NATIVE)
                    .mul(FloatVector.fromMemorySegment(Vec.S, d, doff, Vec.NATIVE).sub(w)).mul(sv)
                    .intoMemorySegment(d, doff, Vec.NATIVE);
        }
        for (int j = bound; j < n; j++) {
            d.setAtIndex(Tiles.F32, di + j, a.getAtIndex(Tiles.F32, ai + j) * (d.getAtIndex(Tiles.F32, di + j) - weighted)
                    * scale);
        }
    }
}
