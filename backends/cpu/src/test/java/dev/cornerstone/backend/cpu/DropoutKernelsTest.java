package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** Dropout masks: exactly the reference's, for any thread count; p = 0 keeps everything. */
class DropoutKernelsTest extends KernelTestBase {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 13, 97, Tiles.TILE + 3, 200_003})
    void maskIsTheReferenceMaskBitForBit(int n) {
        float[] x = uniform(new SplittableRandom(n), n);
        Tensor mask = zeros(n);
        Tensor out = zeros(n);
        float[] maskExpected = new float[n];
        float[] outExpected = new float[n];
        ReferenceKernels.dropoutForward(x, maskExpected, outExpected, 0.1f, 42L);
        backend.dropoutForward(f32(x, n), mask, out, 0.1f, 42L);
        assertThat(read(mask)).isEqualTo(maskExpected);
        assertThat(read(out)).isEqualTo(outExpected);
    }

    @Test
    void maskDependsOnTheSeedOnlyNotOnTheThreads() {
        int n = 100_003;
        float[] x = uniform(new SplittableRandom(1), n);
        float[] m1 = new float[n];
        try (CpuBackend single = new CpuBackend(1);
             Tensor x1 = single.allocate(Shape.of(n), DType.F32);
             Tensor mask1 = single.allocate(Shape.of(n), DType.F32);
             Tensor out1 = single.allocate(Shape.of(n), DType.F32)) {
            single.write(x1, 0, x, 0, n);
            single.dropoutForward(x1, mask1, out1, 0.25f, 7L);
            single.read(mask1, 0, m1, 0, n);
        }
        Tensor mask3 = zeros(n);
        backend.dropoutForward(f32(x, n), mask3, zeros(n), 0.25f, 7L);
        assertThat(read(mask3)).isEqualTo(m1);
        long dropped = 0;
        long other = 0;
        for (float v : m1) {
            dropped += v == 0f ? 1 : 0;
            other += v != 0f && v != 1f / 0.75f ? 1 : 0;
        }
        assertThat(other).as("mask values other than 0 and 1/(1-p)").isZero();
        assertThat(dropped / (double) n).isCloseTo(0.25, within(0.01));

        Tensor reseeded = zeros(n);
        backend.dropoutForward(f32(x, n), reseeded, zeros(n), 0.25f, 8L);
        assertThat(read(reseeded)).isNotEqualTo(m1);
    }

    @Test
    void zeroProbabilityKeepsEverything() {
        int n = 5000;
        float[] x = uniform(new SplittableRandom(2), n);
        Tensor mask = zeros(n);
        Tensor out = zeros(n);
        backend.dropoutForward(f32(x, n), mask, out, 0f, 123L);
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        assertThat(read(mask)).isEqualTo(ones);
        assertThat(read(out)).isEqualTo(x);
    }
}
