package dev.cornerstone.cluster.internal.ring;

import java.lang.foreign.MemorySegment;

/**
 * The reduce-scatter's add between a received run of little-endian floats and the caller's
 * array, in runs of a small scratch array: {@link MemorySegment#copy} moves each run into the
 * scratch (a plain memory copy on little-endian hardware), and the add is a plain
 * {@code float[]} loop that the JIT vectorizes, where a per-element
 * {@code MemorySegment.get} loop is not.
 */
final class LeFloats {

    /** Floats per run: the scratch stays in the first-level cache. */
    static final int RUN = 2048;

    private LeFloats() {
    }

    /**
     * As {@link #add(float[], int, MemorySegment, long, int, float, boolean, boolean, float[])}
     * with the destination off-heap: {@code n} little-endian floats at byte {@code dstOffset}
     * of {@code dst}; {@code scratch2} holds a run of them.
     */
    static void add(MemorySegment dst, long dstOffset, MemorySegment seg, long srcOffset, int n, float scale,
                    boolean keep, boolean back, float[] scratch, float[] scratch2) {
        for (int done = 0; done < n; ) {
            int k = Math.min(RUN, n - done);
            long off = srcOffset + (long) done * Float.BYTES;
            long dOff = dstOffset + (long) done * Float.BYTES;
            MemorySegment.copy(seg, Chunk.LE_FLOAT, off, scratch, 0, k);
            MemorySegment.copy(dst, Chunk.LE_FLOAT, dOff, scratch2, 0, k);
            if (scale == 1f) {
                for (int i = 0; i < k; i++) {
                    scratch[i] += scratch2[i];
                }
            } else {
                for (int i = 0; i < k; i++) {
                    scratch[i] = (scratch2[i] + scratch[i]) * scale;
                }
            }
            if (keep) {
                MemorySegment.copy(scratch, 0, dst, Chunk.LE_FLOAT, dOff, k);
            }
            if (back) {
                MemorySegment.copy(scratch, 0, seg, Chunk.LE_FLOAT, off, k);
            }
            done += k;
        }
    }

    /** A scratch array for {@link #add}, one per thread that adds. */
    static float[] scratch() {
        return new float[RUN];
    }

    /**
     * {@code dst[at, at + n) = (dst[at, at + n) + src) * scale}, where {@code src} is {@code n}
     * little-endian floats at byte {@code srcOffset} of {@code seg}; with {@code back} the result
     * is also written over {@code src}, the frame that goes on to the next rank, and without
     * {@code keep} only there ({@code dst} is left as it was). A scale of 1 is not multiplied
     * (sums stay bit for bit what a plain add gives).
     */
    static void add(float[] dst, int at, MemorySegment seg, long srcOffset, int n, float scale, boolean keep,
                    boolean back, float[] scratch) {
        for (int done = 0; done < n; ) {
            int k = Math.min(RUN, n - done);
            long off = srcOffset + (long) done * Float.BYTES;
            MemorySegment.copy(seg, Chunk.LE_FLOAT, off, scratch, 0, k);
            int base = at + done;
            if (scale == 1f) {
                for (int i = 0; i < k; i++) {
                    scratch[i] += dst[base + i];
                }
            } else {
                for (int i = 0; i < k; i++) {
                    scratch[i] = (dst[base + i] + scratch[i]) * scale;
                }
            }
            if (keep) {
                System.arraycopy(scratch, 0, dst, base, k);
            }
            if (back) {
                MemorySegment.copy(scratch, 0, seg, Chunk.LE_FLOAT, off, k);
            }
            done += k;
        }
    }
}
