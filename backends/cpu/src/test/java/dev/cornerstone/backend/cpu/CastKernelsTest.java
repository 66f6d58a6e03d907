package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.BF16_RTOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** F32 ↔ BF16 casts: the reference's bits exactly; round trips within BF16 precision. */
class CastKernelsTest extends KernelTestBase {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 13, 97, Tiles.TILE + 3, 100_003})
    void roundTripsMatchTheReference(int n) {
        float[] x = uniform(new SplittableRandom(n), n, -1000, 1000);
        Tensor src = f32(x, n);
        Tensor half = bf16(n);
        Tensor back = zeros(n);
        backend.cast(src, half);
        backend.cast(half, back);

        short[] bits = new short[n];
        float[] expected = new float[n];
        ReferenceKernels.castToBf16(x, bits);
        ReferenceKernels.castToF32(bits, expected);
        assertThat(read(back)).isEqualTo(expected);
        assertClose(read(back), x, BF16_RTOL, 0, "bf16 round trip");
        assertThat(read(half)).isEqualTo(expected);          // read() converts BF16 too
    }

    @Test
    void specialValuesAndTies() {
        float[] x = {
            0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -Float.NaN, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -(1f + 0x1p-8f),
            1f + 0x1p-8f + 0x1p-23f, 3.1415927f, 65504f, 1e-40f,
        };
        for (float f : x) {
            assertThat(CastKernels.toBf16(f)).as("bits of %s", f).isEqualTo(ReferenceKernels.toBf16(f));
        }
        Tensor src = f32(x, x.length);
        Tensor half = bf16(x.length);
        Tensor back = zeros(x.length);
        backend.cast(src, half);
        backend.cast(half, back);
        float[] r = read(back);
        assertThat(r[0]).isEqualTo(0f);
        assertThat(Float.floatToRawIntBits(r[1])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(r[2]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(r[3]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(r[4]).isNaN();
        assertThat(r[5]).isNaN();
        assertThat(r[6]).isEqualTo(Float.POSITIVE_INFINITY);      // rounds up past the largest BF16
        assertThat(r[10]).isEqualTo(1f);                          // tie, to even (down)
        assertThat(r[11]).isEqualTo(1f + 4 * 0x1p-8f);            // tie, to even (up)
        assertThat(r[12]).isEqualTo(-1f);
        assertThat(r[13]).isEqualTo(1f + 0x1p-7f);                // just above the tie
    }
}
