package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * How the Java kernels touch tensor memory: they copy tiles of a few thousand elements from the
 * {@link MemorySegment}s into per-thread {@code float[]} scratch ({@link Scratch}), compute on
 * the arrays with plain indexed loops, and copy the results back.
 *
 * <p>Why tiles and not loops over the segments: C2 auto-vectorises {@code out[i] = a[i] + b[i]}
 * on arrays (the accesses share one index, so even aliased arrays are safe), but on JDK 25 it
 * leaves the same loop over two native segments scalar, because it cannot prove that the two
 * addresses do not overlap; the bulk copies are {@code memcpy}. Kernels dominated by reductions
 * or long per-element formulas use the Vector API on the segments instead ({@link Vec}).
 */
final class Tiles {

    /** Elements per tile: three tiles of floats fit in a 48 KiB L1 data cache. */
    static final int TILE = 4096;

    /** Tensor loops hand fewer elements than this to one thread: dispatch costs more than it saves. */
    static final long GRAIN = 32_768;

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Tiles() {
    }

    /** {@code dst[0, len) = src[index, index + len)}, in floats. */
    static void load(MemorySegment src, long index, float[] dst, int len) {
        MemorySegment.copy(src, F32, index * Float.BYTES, dst, 0, len);
    }

    /** {@code dst[index, index + len) = src[0, len)}, in floats. */
    static void store(float[] src, int len, MemorySegment dst, long index) {
        MemorySegment.copy(src, 0, dst, F32, index * Float.BYTES, len);
    }

    /** The length of the tile that starts at {@code from} and must not pass {@code to}. */
    static int length(long from, long to) {
        return (int) Math.min(TILE, to - from);
    }

    /** Rows per part for a row-wise kernel, so that a part holds at least {@link #GRAIN} elements. */
    static long rowGrain(long rowLength) {
        return Math.max(1, GRAIN / Math.max(1, rowLength));
    }
}
