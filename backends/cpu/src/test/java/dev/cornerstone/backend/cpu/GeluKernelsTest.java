package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.F32_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.F32_RTOL;
import static dev.cornerstone.backend.cpu.Tolerances.GELU_BACKWARD_ATOL;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** GELU forward and backward against {@link ReferenceKernels}. */
class GeluKernelsTest extends KernelTestBase {

    static IntStream sizes() {
        return IntStream.of(1, 7, 13, 31, 97, 1000, Tiles.TILE + 3, 300_007);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void forwardAndBackward(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] x = uniform(random, n, -6, 6);
        float[] dout = uniform(random, n);
        float[] dx = uniform(random, n);                  // existing gradient: the backward adds to it
        Tensor tx = f32(x, n);
        Tensor out = zeros(n);
        Tensor tdx = f32(dx, n);

        float[] expected = new float[n];
        ReferenceKernels.geluForward(x, expected);
        backend.geluForward(tx, out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "gelu forward " + n);

        float[] dxExpected = Arrays.copyOf(dx, n);
        ReferenceKernels.geluBackward(x, dout, dxExpected);
        backend.geluBackward(tx, f32(dout, n), tdx);
        assertClose(read(tdx), dxExpected, F32_RTOL, GELU_BACKWARD_ATOL, "gelu backward " + n);
    }

    @Test
    void extremeInputs() {
        float[] x = {-100f, -20f, -9f, -8f, -1e-6f, 0f, 1e-6f, 8f, 9f, 20f, 100f, 1e4f, -1e4f};
        Tensor tx = f32(x, x.length);
        Tensor out = zeros(x.length);
        float[] expected = new float[x.length];
        ReferenceKernels.geluForward(x, expected);
        backend.geluForward(tx, out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "gelu forward, extremes");

        float[] ones = new float[x.length];
        Arrays.fill(ones, 1f);
        float[] dxExpected = new float[x.length];
        ReferenceKernels.geluBackward(x, ones, dxExpected);
        Tensor tdx = zeros(x.length);
        backend.geluBackward(tx, f32(ones, x.length), tdx);
        assertClose(read(tdx), dxExpected, F32_RTOL, GELU_BACKWARD_ATOL, "gelu backward, extremes");
    }
}
