package dev.cornerstone.cluster.internal.ring;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The reduce-scatter's add between a received run of little-endian floats (in a frame) and the
 * caller's operand, a {@code float[]} or an off-heap segment: one pass with the Vector API,
 * loading both straight from where they lie (no staging copy), the rest of the run element by
 * element. Float addition is commutative and each lane computes what the scalar expression
 * does, so the sums are bit for bit those of {@link #addReference}.
 */
final class LeFloats {

    /** Floats per run of the receiver's adds: a slice stays in the first-level cache. */
    static final int RUN = 2048;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private LeFloats() {
    }

    /**
     * As {@link #add(float[], int, MemorySegment, long, int, float, boolean, boolean)} with the
     * destination off-heap: {@code n} little-endian floats at byte {@code dstOffset} of {@code dst}.
     */
    static void add(MemorySegment dst, long dstOffset, MemorySegment seg, long srcOffset, int n, float scale,
                    boolean keep, boolean back) {
        add(dst, dstOffset, seg, srcOffset, n, scale, keep, back ? seg : null, srcOffset);
    }

    /**
     * As {@link #add(MemorySegment, long, MemorySegment, long, int, float, boolean, boolean)}, with
     * the result written to {@code out} at byte {@code outOffset} (the frame that goes on) instead
     * of over the source; null: nowhere but, with {@code keep}, {@code dst}.
     */
    static void add(MemorySegment dst, long dstOffset, MemorySegment seg, long srcOffset, int n, float scale,
                    boolean keep, MemorySegment out, long outOffset) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            long s = srcOffset + (long) i * Float.BYTES;
            long d = dstOffset + (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, dst, d, LE).add(FloatVector.fromMemorySegment(S, seg, s, LE));
            if (scale != 1f) {
                v = v.mul(scale);
            }
            if (keep) {
                v.intoMemorySegment(dst, d, LE);
            }
            if (out != null) {
                v.intoMemorySegment(out, outOffset + (long) i * Float.BYTES, LE);
            }
        }
        for (; i < n; i++) {
            long s = srcOffset + (long) i * Float.BYTES;
            long d = dstOffset + (long) i * Float.BYTES;
            float v = dst.get(Chunk.LE_FLOAT, d) + seg.get(Chunk.LE_FLOAT, s);
            if (scale != 1f) {
                v *= scale;
            }
            if (keep) {
                dst.set(Chunk.LE_FLOAT, d, v);
            }
            if (out != null) {
                out.set(Chunk.LE_FLOAT, outOffset + (long) i * Float.BYTES, v);
            }
        }
    }

    /**
     * {@code dst[at, at + n) = (dst[at, at + n) + src) * scale}, where {@code src} is {@code n}
     * little-endian floats at byte {@code srcOffset} of {@code seg}; with {@code back} the result
     * is also written over {@code src}, the frame that goes on to the next rank, and without
     * {@code keep} only there ({@code dst} is left as it was). A scale of 1 is not multiplied
     * (sums stay bit for bit what a plain add gives).
     */
    static void add(float[] dst, int at, MemorySegment seg, long srcOffset, int n, float scale, boolean keep,
                    boolean back) {
        add(dst, at, seg, srcOffset, n, scale, keep, back ? seg : null, srcOffset);
    }

    /** As {@link #add(float[], int, MemorySegment, long, int, float, boolean, boolean)}, the result going to {@code out} (may be null). */
    static void add(float[] dst, int at, MemorySegment seg, long srcOffset, int n, float scale, boolean keep,
                    MemorySegment out, long outOffset) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            long s = srcOffset + (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromArray(S, dst, at + i).add(FloatVector.fromMemorySegment(S, seg, s, LE));
            if (scale != 1f) {
                v = v.mul(scale);
            }
            if (keep) {
                v.intoArray(dst, at + i);
            }
            if (out != null) {
                v.intoMemorySegment(out, outOffset + (long) i * Float.BYTES, LE);
            }
        }
        // the tail, shorter than a vector
        addReference(dst, at + i, seg, srcOffset + (long) i * Float.BYTES, n - i, scale, keep, out,
                outOffset + (long) i * Float.BYTES);
    }

    /** The plain reference of {@link #add(float[], int, MemorySegment, long, int, float, boolean, boolean)}, element by element. */
    static void addReference(float[] dst, int at, MemorySegment seg, long srcOffset, int n, float scale, boolean keep,
                             boolean back) {
        addReference(dst, at, seg, srcOffset, n, scale, keep, back ? seg : null, srcOffset);
    }

    /** As {@link #addReference(float[], int, MemorySegment, long, int, float, boolean, boolean)}, the result going to {@code out} (may be null). */
    static void addReference(float[] dst, int at, MemorySegment seg, long srcOffset, int n, float scale, boolean keep,
                             MemorySegment out, long outOffset) {
        for (int i = 0; i < n; i++) {
            float v = dst[at + i] + seg.get(Chunk.LE_FLOAT, srcOffset + (long) i * Float.BYTES);
            if (scale != 1f) {
                v *= scale;
            }
            if (keep) {
                dst[at + i] = v;
            }
            if (out != null) {
                out.set(Chunk.LE_FLOAT, outOffset + (long) i * Float.BYTES, v);
            }
        }
    }
}
