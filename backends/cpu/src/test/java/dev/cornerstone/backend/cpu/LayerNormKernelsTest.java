package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.F32_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.F32_RTOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_RTOL;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** LayerNorm forward and backward against {@link ReferenceKernels}. */
class LayerNormKernelsTest extends KernelTestBase {

    static final float EPS = 1e-5f;

    /** (N, C). */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1), Arguments.of(1, 7), Arguments.of(13, 1), Arguments.of(7, 13), Arguments.of(31, 97),
                Arguments.of(97, 31), Arguments.of(64, 768), Arguments.of(1031, 257));
    }

    @ParameterizedTest(name = "N={0} C={1}")
    @MethodSource("shapes")
    void forwardAndBackward(int n, int c) {
        SplittableRandom random = new SplittableRandom(n * 31L + c);
        float[] x = uniform(random, n * c, -2, 3);
        float[] weight = uniform(random, c, 0.5, 1.5);
        float[] bias = uniform(random, c);
        Tensor tx = f32(x, n, c);
        Tensor tw = f32(weight, c);
        Tensor tb = f32(bias, c);
        Tensor out = zeros(n, c);
        Tensor mean = zeros(n);
        Tensor rstd = zeros(n);

        float[] outExpected = new float[n * c];
        float[] meanExpected = new float[n];
        float[] rstdExpected = new float[n];
        ReferenceKernels.layerNormForward(x, weight, bias, outExpected, meanExpected, rstdExpected, EPS);
        backend.layerNormForward(tx, tw, tb, out, mean, rstd, EPS);
        assertClose(read(mean), meanExpected, F32_RTOL, F32_ATOL, "mean");
        assertClose(read(rstd), rstdExpected, F32_RTOL, F32_ATOL, "rstd");
        assertClose(read(out), outExpected, F32_RTOL, F32_ATOL, "layernorm forward");

        // backward from the reference's own mean and rstd, into gradients that already hold values
        float[] dout = uniform(random, n * c);
        float[] dx = uniform(random, n * c);
        float[] dweight = uniform(random, c);
        float[] dbias = uniform(random, c);
        Tensor tdx = f32(dx, n, c);
        Tensor tdw = f32(dweight, c);
        Tensor tdb = f32(dbias, c);
        float[] dxExpected = Arrays.copyOf(dx, dx.length);
        float[] dwExpected = Arrays.copyOf(dweight, c);
        float[] dbExpected = Arrays.copyOf(dbias, c);
        ReferenceKernels.layerNormBackward(dout, x, weight, meanExpected, rstdExpected, dxExpected, dwExpected,
                dbExpected);
        backend.layerNormBackward(f32(dout, n, c), tx, tw, f32(meanExpected, n), f32(rstdExpected, n), tdx, tdw, tdb);
        assertClose(read(tdx), dxExpected, REDUCTION_RTOL, REDUCTION_ATOL, "dx");
        assertClose(read(tdw), dwExpected, REDUCTION_RTOL, REDUCTION_ATOL, "dweight");
        assertClose(read(tdb), dbExpected, REDUCTION_RTOL, REDUCTION_ATOL, "dbias");
    }
}
