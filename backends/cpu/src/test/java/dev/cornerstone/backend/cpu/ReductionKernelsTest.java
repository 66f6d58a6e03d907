package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_RTOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** sum, sumOfSquares and sumRows against {@link ReferenceKernels}. */
class ReductionKernelsTest extends KernelTestBase {

    static IntStream sizes() {
        return IntStream.of(1, 7, 13, 31, 97, 1000, Tiles.TILE + 3, 1_000_003);
    }

    /** (rows, columns): few and many columns, so both the column split and the row split run. */
    static Stream<Arguments> matrices() {
        return Stream.of(
                Arguments.of(1, 1), Arguments.of(13, 1), Arguments.of(7, 13), Arguments.of(97, 31),
                Arguments.of(20_011, 3), Arguments.of(3, 10_007), Arguments.of(257, 4099), Arguments.of(4096, 768));
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void sumAndSumOfSquares(int n) {
        float[] x = uniform(new SplittableRandom(n), n, -2, 3);
        Tensor t = f32(x, n);
        // in double on both sides: only the order of the additions differs
        assertClose(backend.sum(t), ReferenceKernels.sum(x), 1e-12, 1e-9, "sum " + n);
        assertClose(backend.sumOfSquares(t), ReferenceKernels.sumOfSquares(x), 1e-12, 1e-9, "sumOfSquares " + n);
    }

    @ParameterizedTest
    @MethodSource("matrices")
    void sumRowsAccumulates(int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 7919L + cols);
        float[] x = uniform(random, rows * cols);
        float[] out = uniform(random, cols);                 // existing content: the kernel adds to it
        Tensor tx = f32(x, rows, cols);
        Tensor tout = f32(out, cols);
        ReferenceKernels.sumRows(x, out);
        backend.sumRows(tx, tout);
        assertClose(read(tout), out, REDUCTION_RTOL, REDUCTION_ATOL, "sumRows " + rows + "x" + cols);
    }

    @Test
    void sumsAreTheSameOnEveryRun() {
        float[] x = uniform(new SplittableRandom(3), 777_777, -1, 1);
        Tensor t = f32(x, x.length);
        double first = backend.sum(t);
        for (int i = 0; i < 5; i++) {
            assertThat(backend.sum(t)).isEqualTo(first);
        }
    }
}
