package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.F32;
import static dev.cornerstone.backend.cpu.Tiles.I32;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Softmax fused with cross-entropy, as llm.c's {@code softmax_forward},
 * {@code crossentropy_forward} and {@code crossentropy_softmax_backward}: probs = softmax(logits)
 * per row; loss = -log probs[target]; dlogits += (probs - onehot(target)) * dloss. A negative
 * target marks an ignored row (padding): loss 0, no gradient; its probabilities are still
 * written.
 *
 * <p>Dimension legend: {@code N} rows (B·T), {@code V} vocabulary.
 *
 * <p>The row maximum is the true maximum (llm.c starts from -10000); exponentials come from
 * {@link FastMath#exp} and sum in double; the loss is taken as {@code log(sum) - (logit[target] - max)}, which equals
 * {@code -log probs[target]} but stays finite when the probability underflows in float.
 */
final class CrossEntropyKernels {

    private final Parallel parallel;

    CrossEntropyKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** logits (N, V), targets (N) → probs (N, V), losses (N). */
    void crossEntropyForward(MemorySegment logits, MemorySegment targets, MemorySegment probs, MemorySegment losses,
                             long n, int v) {
        parallel.forRange(n, Tiles.rowGrain(v), (from, to, s) -> {
            float[] row = s.floats(0, v);
            float[] exponents = s.floats(1, v);
            float[] keep = s.floats(2, v);
            for (long r = from; r < to; r++) {
                load(logits, r * v, row, v);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, row[j]);
                }
                int target = targets.getAtIndex(I32, r);
                float targetLogit = target >= 0 ? row[target] : 0f;
                for (int j = 0; j < v; j++) {
                    row[j] -= max;
                }
                FastMath.exp(row, row, v, exponents, keep);
                double sum = LayerNormKernels.sum(row, v);
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < v; j++) {
                    row[j] *= inv;
                }
                store(row, v, probs, r * v);
                float loss = target >= 0 ? (float) (Math.log(sum) - ((double) targetLogit - max)) : 0f;
                losses.setAtIndex(F32, r, loss);
            }
        });
    }

    /** dlogits (N, V) += (probs - onehot(targets)) * dlosses (N); rows with a negative target get nothing. */
    void crossEntropyBackward(MemorySegment probs, MemorySegment targets, MemorySegment dlosses, MemorySegment dlogits,
                              long n, int v) {
        parallel.forRange(n, Tiles.rowGrain(v), (from, to, s) -> {
            float[] p = s.floats(0, v);
            float[] d = s.floats(1, v);
            for (long r = from; r < to; r++) {
                int target = targets.getAtIndex(I32, r);
                if (target < 0) {
                    continue;
                }
                float dloss = dlosses.getAtIndex(F32, r);
                load(probs, r * v, p, v);
                load(dlogits, r * v, d, v);
                float old = d[target];
                for (int j = 0; j < v; j++) {
                    d[j] += p[j] * dloss;
                }
                d[target] = old + (p[target] - 1f) * dloss;
                store(d, v, dlogits, r * v);
            }
        });
    }
}
