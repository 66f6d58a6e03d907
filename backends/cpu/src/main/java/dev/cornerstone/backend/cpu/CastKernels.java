package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.BF16;
import static dev.cornerstone.backend.cpu.Tiles.GRAIN;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.length;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Conversions between F32 and BF16 (bfloat16: the upper 16 bits of an IEEE 754 float, Kalamkar
 * et al., "A Study of BFLOAT16 for Deep Learning Training", 2019), rounding to nearest, ties to
 * even. NaN stays NaN (made quiet, sign kept); overflow rounds to infinity, as IEEE rounding does.
 *
 * <p>Dimension legend: {@code N} elements.
 */
final class CastKernels {

    private final Parallel parallel;

    CastKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** BF16 bits of {@code f}, rounded to nearest even. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        // adding 0x7FFF plus the lowest kept bit carries into the kept half exactly when the
        // dropped half is above one half, or equal to it and the kept half is odd
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** dst (N, BF16) = src (N, F32). */
    void toBf16(MemorySegment src, MemorySegment dst, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tf = s.floats(0, TILE);
            short[] th = s.shorts(0, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(src, i, tf, len);
                for (int j = 0; j < len; j++) {
                    th[j] = toBf16(tf[j]);
                }
                MemorySegment.copy(th, 0, dst, BF16, i * Short.BYTES, len);
            }
        });
    }

    /** dst (N, F32) = src (N, BF16). */
    void toF32(MemorySegment src, MemorySegment dst, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tf = s.floats(0, TILE);
            short[] th = s.shorts(0, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                MemorySegment.copy(src, BF16, i * Short.BYTES, th, 0, len);
                for (int j = 0; j < len; j++) {
                    tf[j] = Float.intBitsToFloat((th[j] & 0xFFFF) << 16);
                }
                store(tf, len, dst, i);
            }
        });
    }
}
