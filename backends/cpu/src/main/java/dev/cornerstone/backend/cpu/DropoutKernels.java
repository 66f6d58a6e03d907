package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.length;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout (Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
 * Overfitting", JMLR 2014): {@code out = x * mask}, {@code mask[i] = keep ? 1/(1-p) : 0}.
 *
 * <p>Dimension legend: {@code N} elements.
 *
 * <p>The mask is a pure function of (seed, i), so any backend, any thread count and any split
 * reproduce it exactly: element i keeps its value when {@code uniform(seed, i) >= p}, where
 * {@code uniform} is the i-th output of SplitMix64 (Steele, Lea and Flood, "Fast Splittable
 * Pseudorandom Number Generators", OOPSLA 2014) started from {@code seed}, its top 24 bits read
 * as a float in [0, 1):
 * <pre>
 * z = seed + (i + 1) * 0x9E3779B97F4A7C15
 * z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
 * z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
 * z = z ^ (z >>> 31)
 * uniform = (z >>> 40) * 2^-24
 * </pre>
 * and the kept value is {@code 1f / (1f - p)} computed in float. With p = 0 every mask value is
 * exactly 1.
 */
final class DropoutKernels {

    static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final Parallel parallel;

    DropoutKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** The uniform number of element {@code index} (see the class comment). */
    static float uniform(long seed, long index) {
        long z = seed + (index + 1) * GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * 0x1.0p-24f;
    }

    /** x (N) → mask (N), out (N) = x * mask. */
    void dropoutForward(MemorySegment x, MemorySegment mask, MemorySegment out, long n, float p, long seed) {
        float kept = 1f / (1f - p);
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tx = s.floats(0, TILE);
            float[] tm = s.floats(1, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(x, i, tx, len);
                for (int j = 0; j < len; j++) {
                    tm[j] = uniform(seed, i + j) >= p ? kept : 0f;
                }
                for (int j = 0; j < len; j++) {
                    tx[j] *= tm[j];
                }
                store(tm, len, mask, i);
                store(tx, len, out, i);
            }
        });
    }
}
