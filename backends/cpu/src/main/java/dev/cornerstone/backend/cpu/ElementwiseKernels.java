package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.length;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Element-wise kernels: fill, copy, add and mul with a repeating right operand, scale, axpy.
 *
 * <p>Dimension legend: {@code N} elements of the output; {@code M} elements of a broadcast
 * operand that repeats over the leading dimensions ({@code M} divides {@code N}).
 *
 * <p>Every loop works on float tiles (see {@link Tiles} for why, and why no Vector API).
 */
final class ElementwiseKernels {

    /** Memory-bound copies and fills: bigger parts, the work per element is a load and a store. */
    private static final long BULK_GRAIN = 4 * GRAIN;

    private final Parallel parallel;

    ElementwiseKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    // ---- fill, copy ------------------------------------------------------------------------

    /** {@code t[base, base + count) = value} for an F32 tensor. */
    void fillRange(MemorySegment t, long base, long count, float value) {
        if (Float.floatToRawIntBits(value) == 0) {
            parallel.forRange(count, BULK_GRAIN, (from, to, s) ->
                    t.asSlice((base + from) * Float.BYTES, (to - from) * Float.BYTES).fill((byte) 0));
            return;
        }
        parallel.forRange(count, BULK_GRAIN, (from, to, s) -> {
            float[] tile = s.floats(0, TILE);
            Arrays.fill(tile, 0, TILE, value);
            for (long i = from; i < to; i += TILE) {
                store(tile, length(i, to), t, base + i);
            }
        });
    }

    /** {@code t[0, count) = value} for an I32 tensor. */
    void fillInts(MemorySegment t, long count, int value) {
        parallel.forRange(count, BULK_GRAIN, (from, to, s) -> {
            int[] tile = s.ints(0, TILE);
            Arrays.fill(tile, 0, TILE, value);
            for (long i = from; i < to; i += TILE) {
                MemorySegment.copy(tile, 0, t, Tiles.I32, i * Integer.BYTES, length(i, to));
            }
        });
    }

    /** {@code t[0, count) = bits} for a BF16 tensor. */
    void fillShorts(MemorySegment t, long count, short bits) {
        parallel.forRange(count, BULK_GRAIN, (from, to, s) -> {
            short[] tile = s.shorts(0, TILE);
            Arrays.fill(tile, 0, TILE, bits);
            for (long i = from; i < to; i += TILE) {
                MemorySegment.copy(tile, 0, t, Tiles.BF16, i * Short.BYTES, length(i, to));
            }
        });
    }

    /** {@code dst = src}, {@code bytes} of them. */
    void copy(MemorySegment src, MemorySegment dst, long bytes) {
        parallel.forRange(bytes, BULK_GRAIN * Float.BYTES, (from, to, s) ->
                MemorySegment.copy(src, from, dst, from, to - from));
    }

    // ---- add, mul --------------------------------------------------------------------------

    /** {@code out = a + b}: a and out (N), b (M) repeating. */
    void add(MemorySegment a, long n, MemorySegment b, long m, MemorySegment out) {
        broadcast(a, n, b, m, out, true);
    }

    /** {@code out = a * b}: a and out (N), b (M) repeating. */
    void mul(MemorySegment a, long n, MemorySegment b, long m, MemorySegment out) {
        broadcast(a, n, b, m, out, false);
    }

    private void broadcast(MemorySegment a, long n, MemorySegment b, long m, MemorySegment out, boolean add) {
        if (m <= 0) {
            return;
        }
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] ta = s.floats(0, TILE);
            float[] tb = s.floats(1, TILE);
            // a short b is laid out repeated once, then every tile of it is one arraycopy away
            float[] repeated = m < n && m <= TILE ? repeat(b, (int) m, s.floats(2, TILE + (int) m)) : null;
            long i = from;
            while (i < to) {
                int len;
                if (m == n) {
                    len = length(i, to);
                    load(b, i, tb, len);
                } else if (repeated != null) {
                    len = length(i, to);
                    System.arraycopy(repeated, (int) (i % m), tb, 0, len);
                } else {
                    long offset = i % m;                                  // tiles stop at the end of b
                    len = (int) Math.min(length(i, to), m - offset);
                    load(b, offset, tb, len);
                }
                load(a, i, ta, len);
                if (add) {
                    for (int j = 0; j < len; j++) {
                        ta[j] += tb[j];
                    }
                } else {
                    for (int j = 0; j < len; j++) {
                        ta[j] *= tb[j];
                    }
                }
                store(ta, len, out, i);
                i += len;
            }
        });
    }

    /** {@code r[j] = b[j % m]} for {@code j < TILE + m}. */
    private static float[] repeat(MemorySegment b, int m, float[] r) {
        load(b, 0, r, m);
        for (int filled = m; filled < TILE + m; ) {
            int chunk = Math.min(filled, TILE + m - filled);
            System.arraycopy(r, 0, r, filled, chunk);
            filled += chunk;
        }
        return r;
    }

    // ---- scale, axpy -----------------------------------------------------------------------

    /** {@code out = alpha * x}, N elements. */
    void scale(MemorySegment x, float alpha, MemorySegment out, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] t = s.floats(0, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(x, i, t, len);
                for (int j = 0; j < len; j++) {
                    t[j] *= alpha;
                }
                store(t, len, out, i);
            }
        });
    }

    /** {@code t[base, base + count) *= alpha} in place. */
    void scaleRange(MemorySegment t, long base, long count, float alpha) {
        scale(t.asSlice(base * Float.BYTES, count * Float.BYTES), alpha,
                t.asSlice(base * Float.BYTES, count * Float.BYTES), count);
    }

    /** {@code y += alpha * x}, N elements. */
    void axpy(float alpha, MemorySegment x, MemorySegment y, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tx = s.floats(0, TILE);
            float[] ty = s.floats(1, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(x, i, tx, len);
                load(y, i, ty, len);
                for (int j = 0; j < len; j++) {
                    ty[j] += alpha * tx[j];
                }
                store(ty, len, y, i);
            }
        });
    }
}
