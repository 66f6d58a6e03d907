package dev.cornerstone.backend.opencl;

/** BF16 on the host, for {@code read} and {@code write} of BF16 tensors: as the device's casts (elementwise.cl). */
final class Bf16 {

    private Bf16() {
    }

    /** The upper half of f's bits, rounded to nearest, ties to even; NaN stays a quiet NaN. */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int upper = bits >>> 16;
        int lower = bits & 0xFFFF;
        if (Float.isNaN(f)) {
            return (short) (upper | 0x40);
        }
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return (short) upper;
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
