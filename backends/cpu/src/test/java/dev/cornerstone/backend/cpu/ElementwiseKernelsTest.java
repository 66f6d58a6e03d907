package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.F32_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.F32_RTOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** fill, copy, add, mul, scale, axpy against {@link ReferenceKernels}. */
class ElementwiseKernelsTest extends KernelTestBase {

    /** 1, primes, not multiples of 8 or 16, one past a tile, and one large enough for every thread. */
    static IntStream sizes() {
        return IntStream.of(1, 7, 13, 31, 97, 1000, Tiles.TILE + 3, 200_003);
    }

    /** (rows, columns of b): b repeats over rows; columns 1 and primes, short and longer than a tile. */
    static Stream<Arguments> broadcasts() {
        return Stream.of(
                Arguments.of(1, 1), Arguments.of(7, 1), Arguments.of(1, 13), Arguments.of(13, 7),
                Arguments.of(97, 31), Arguments.of(4099, 3), Arguments.of(31, 97), Arguments.of(3, Tiles.TILE + 5),
                Arguments.of(257, 768), Arguments.of(2, 50_021), Arguments.of(30_011, 7));
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void fillAndCopy(int n) {
        Tensor t = zeros(n);
        backend.fill(t, -2.5f);
        float[] expected = new float[n];
        ReferenceKernels.fill(expected, -2.5f);
        assertThat(read(t)).isEqualTo(expected);
        backend.fill(t, 0f);
        assertThat(read(t)).isEqualTo(new float[n]);

        float[] data = uniform(new SplittableRandom(n), n);
        Tensor src = f32(data, n);
        Tensor dst = zeros(n);
        backend.copy(src, dst);
        float[] copied = new float[n];
        ReferenceKernels.copy(data, copied);
        assertThat(read(dst)).isEqualTo(copied);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void fillInts(int n) {
        Tensor ids = i32(new int[n], n);
        backend.fill(ids, -1f);
        int[] back = new int[n];
        backend.readInts(ids, 0, back, 0, n);
        int[] expected = new int[n];
        Arrays.fill(expected, -1);
        assertThat(back).isEqualTo(expected);
    }

    @ParameterizedTest
    @MethodSource("broadcasts")
    void addAndMulWithARepeatingOperand(int rows, int cols) {
        SplittableRandom random = new SplittableRandom(31L * rows + cols);
        float[] a = uniform(random, rows * cols);
        float[] b = uniform(random, cols);
        Tensor ta = f32(a, rows, cols);
        Tensor tb = f32(b, cols);
        Tensor out = zeros(rows, cols);

        float[] expected = new float[a.length];
        ReferenceKernels.add(a, b, expected);
        backend.add(ta, tb, out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "add " + rows + "x" + cols);

        ReferenceKernels.mul(a, b, expected);
        backend.mul(ta, tb, out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "mul " + rows + "x" + cols);

        // in place: out is a
        ReferenceKernels.add(a, b, expected);
        backend.add(ta, tb, ta);
        assertClose(read(ta), expected, F32_RTOL, F32_ATOL, "add in place " + rows + "x" + cols);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void addAndMulWithoutBroadcast(int n) {
        SplittableRandom random = new SplittableRandom(n + 5);
        float[] a = uniform(random, n);
        float[] b = uniform(random, n);
        Tensor out = zeros(n);
        float[] expected = new float[n];
        ReferenceKernels.mul(a, b, expected);
        backend.mul(f32(a, n), f32(b, n), out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "mul " + n);
    }

    /** The contract allows an output that is also an input of add, mul, scale, axpy and copy. */
    @ParameterizedTest
    @MethodSource("sizes")
    void outputsMayAliasInputs(int n) {
        SplittableRandom random = new SplittableRandom(n + 23);
        float[] a = uniform(random, n);
        float[] b = uniform(random, n);
        float[] expected = new float[n];

        Tensor ta = f32(a, n);
        Tensor tb = f32(b, n);
        ReferenceKernels.mul(a, b, expected);
        backend.mul(ta, tb, tb);                                  // out is b
        assertClose(read(tb), expected, F32_RTOL, F32_ATOL, "mul into b " + n);

        Tensor tx = f32(a, n);
        ReferenceKernels.scale(a, 3f, expected);
        backend.scale(tx, 3f, tx);
        assertClose(read(tx), expected, F32_RTOL, F32_ATOL, "scale in place " + n);

        Tensor ty = f32(a, n);
        float[] yExpected = Arrays.copyOf(a, n);
        ReferenceKernels.axpy(-0.5f, Arrays.copyOf(a, n), yExpected);
        backend.axpy(-0.5f, ty, ty);                              // x is y
        assertClose(read(ty), yExpected, F32_RTOL, F32_ATOL, "axpy onto itself " + n);

        Tensor tc = f32(a, n);
        backend.copy(tc, tc);
        assertThat(read(tc)).isEqualTo(a);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void scaleAndAxpy(int n) {
        SplittableRandom random = new SplittableRandom(n + 11);
        float[] x = uniform(random, n, -3, 3);
        float[] y = uniform(random, n, -3, 3);
        Tensor tx = f32(x, n);
        Tensor ty = f32(y, n);
        Tensor out = zeros(n);

        float[] expected = new float[n];
        ReferenceKernels.scale(x, -0.37f, expected);
        backend.scale(tx, -0.37f, out);
        assertClose(read(out), expected, F32_RTOL, F32_ATOL, "scale " + n);

        float[] yExpected = Arrays.copyOf(y, n);
        ReferenceKernels.axpy(1.75f, x, yExpected);
        backend.axpy(1.75f, tx, ty);
        assertClose(read(ty), yExpected, F32_RTOL, F32_ATOL, "axpy " + n);
    }
}
