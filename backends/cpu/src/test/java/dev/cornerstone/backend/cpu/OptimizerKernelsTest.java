package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.F32_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.F32_RTOL;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** AdamW and SGD updates against {@link ReferenceKernels}, over a few steps. */
class OptimizerKernelsTest extends KernelTestBase {

    static IntStream sizes() {
        return IntStream.of(1, 7, 13, 97, Tiles.TILE + 3, 100_003);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void adamwOverThreeSteps(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] param = uniform(random, n);
        float[] m = new float[n];
        float[] v = new float[n];
        Tensor tp = f32(param, n);
        Tensor tm = zeros(n);
        Tensor tv = zeros(n);
        for (int step = 1; step <= 3; step++) {
            float[] grad = uniform(random, n, -0.1, 0.1);
            ReferenceKernels.adamwStep(param, grad, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, step);
            backend.adamwStep(tp, f32(grad, n), tm, tv, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, step);
            assertClose(read(tp), param, F32_RTOL, F32_ATOL, "adamw param, step " + step);
            assertClose(read(tm), m, F32_RTOL, F32_ATOL, "adamw m, step " + step);
            assertClose(read(tv), v, F32_RTOL, 1e-9, "adamw v, step " + step);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void sgdWithMomentumNesterovAndWeightDecay(int n) {
        for (boolean nesterov : new boolean[] {false, true}) {
            SplittableRandom random = new SplittableRandom(n + (nesterov ? 1 : 0));
            float[] param = uniform(random, n);
            float[] buffer = uniform(random, n);                  // garbage: the first step must not read it
            Tensor tp = f32(param, n);
            Tensor tb = f32(buffer, n);
            for (int step = 0; step < 3; step++) {
                float[] grad = uniform(random, n);
                ReferenceKernels.sgdStep(param, grad, buffer, 0.05f, 0.9f, nesterov, 1e-2f, step == 0);
                backend.sgdStep(tp, f32(grad, n), tb, 0.05f, 0.9f, nesterov, 1e-2f, step == 0);
                assertClose(read(tp), param, F32_RTOL, F32_ATOL, "sgd param, nesterov " + nesterov + ", step " + step);
                assertClose(read(tb), buffer, F32_RTOL, F32_ATOL, "sgd buffer, nesterov " + nesterov + ", step " + step);
            }
        }
    }

    @Test
    void sgdWithoutMomentumNeedsNoBuffer() {
        SplittableRandom random = new SplittableRandom(1);
        float[] param = uniform(random, 1000);
        float[] grad = uniform(random, 1000);
        Tensor tp = f32(param, 1000);
        float[] expected = Arrays.copyOf(param, param.length);
        ReferenceKernels.sgdStep(expected, grad, null, 0.1f, 0f, false, 0.01f, true);
        backend.sgdStep(tp, f32(grad, 1000), null, 0.1f, 0f, false, 0.01f, true);
        assertClose(read(tp), expected, F32_RTOL, F32_ATOL, "plain sgd");
    }
}
