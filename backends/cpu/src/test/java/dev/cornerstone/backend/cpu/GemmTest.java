package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.GEMM_RTOL;
import static dev.cornerstone.backend.cpu.Tolerances.gemmAtol;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/**
 * GEMM against {@link ReferenceKernels#gemm}, on both engines: the default one (OpenBLAS where
 * it is installed, else the Java fallback) and the pure-Java GEMM forced on.
 */
class GemmTest extends KernelTestBase {

    static CpuBackend javaGemm;

    @BeforeAll
    static void startJavaGemm() {
        javaGemm = new CpuBackend(THREADS, true);
    }

    @AfterAll
    static void stopJavaGemm() {
        assertThat(javaGemm.liveTensors()).isZero();
        javaGemm.close();
    }

    static CpuBackend engine(String name) {
        return name.equals("java") ? javaGemm : backend;
    }

    /** (m, n, k): 1, primes, not multiples of the Java blocking, and one past every block size. */
    static final int[][] SHAPES = {
        {1, 1, 1}, {7, 13, 31}, {31, 7, 13}, {97, 31, 13}, {13, 97, 1}, {1, 300, 97}, {64, 64, 64},
        {65, 257, 129}, {130, 300, 513},
    };

    static Stream<Arguments> products() {
        List<Arguments> cases = new ArrayList<>();
        for (String engine : List.of("default", "java")) {
            for (int[] s : SHAPES) {
                for (int t = 0; t < 4; t++) {
                    cases.add(Arguments.of(engine, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} transA={4} transB={5}")
    @MethodSource("products")
    void everyTransposeAndShape(String engine, int m, int n, int k, boolean transA, boolean transB) {
        CpuBackend on = engine(engine);
        SplittableRandom random = new SplittableRandom(m * 1_000_003L + n * 1009L + k);
        float[] a = uniform(random, m * k);
        float[] b = uniform(random, k * n);
        float[] c = uniform(random, m * n);
        Tensor ta = f32On(on, a, m * k);
        Tensor tb = f32On(on, b, k * n);
        Tensor tc = f32On(on, c, m * n);
        ReferenceKernels.gemm(transA, transB, 1, m, n, k, 0.7f, a, 0, 0, b, 0, 0, 0.3f, c, 0, 0);
        on.gemm(transA, transB, 1, m, n, k, 0.7f, ta, 0, 0, tb, 0, 0, 0.3f, tc, 0, 0);
        assertClose(read(tc), c, GEMM_RTOL, gemmAtol(k), engine + " gemm");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "java"})
    void batchedWithOffsetsAndGapsBetweenMatrices(String engine) {
        CpuBackend on = engine(engine);
        int batch = 3;
        int m = 13;
        int n = 31;
        int k = 7;
        // every matrix starts at an odd offset with a gap after it that must stay untouched
        long aOffset = 5;
        long strideA = m * k + 3;
        long bOffset = 2;
        long strideB = k * n + 11;
        long cOffset = 7;
        long strideC = m * n + 1;
        for (int t = 0; t < 4; t++) {
            boolean transA = (t & 1) != 0;
            boolean transB = (t & 2) != 0;
            SplittableRandom random = new SplittableRandom(t);
            float[] a = uniform(random, (int) (aOffset + batch * strideA));
            float[] b = uniform(random, (int) (bOffset + batch * strideB));
            float[] c = uniform(random, (int) (cOffset + batch * strideC));
            Tensor ta = f32On(on, a, a.length);
            Tensor tb = f32On(on, b, b.length);
            Tensor tc = f32On(on, c, c.length);
            ReferenceKernels.gemm(transA, transB, batch, m, n, k, 1.5f, a, aOffset, strideA, b, bOffset, strideB,
                    -0.5f, c, cOffset, strideC);
            on.gemm(transA, transB, batch, m, n, k, 1.5f, ta, aOffset, strideA, tb, bOffset, strideB,
                    -0.5f, tc, cOffset, strideC);
            assertClose(read(tc), c, GEMM_RTOL, gemmAtol(k), engine + " batched transA=" + transA + " transB=" + transB);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "java"})
    void aBatchOfSmallProducts(String engine) {
        // small enough that OpenBLAS runs each on one thread: the backend spreads the batch instead
        CpuBackend on = engine(engine);
        for (int[] s : new int[][] {{16, 16, 16}, {5, 3, 7}, {64, 64, 64}}) {
            int batch = 37;
            int m = s[0];
            int n = s[1];
            int k = s[2];
            SplittableRandom random = new SplittableRandom(batch + m);
            float[] a = uniform(random, batch * m * k);
            float[] b = uniform(random, batch * k * n);
            float[] c = new float[batch * m * n];
            Tensor ta = f32On(on, a, a.length);
            Tensor tb = f32On(on, b, b.length);
            Tensor tc = zerosOn(on, c.length);
            ReferenceKernels.gemm(false, true, batch, m, n, k, 1f, a, 0, (long) m * k, b, 0, (long) k * n,
                    0f, c, 0, (long) m * n);
            on.gemm(false, true, batch, m, n, k, 1f, ta, 0, (long) m * k, tb, 0, (long) k * n, 0f, tc, 0, (long) m * n);
            assertClose(read(tc), c, GEMM_RTOL, gemmAtol(k), engine + " batch of " + Arrays.toString(s));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "java"})
    void betaZeroIgnoresNaNInC(String engine) {
        CpuBackend on = engine(engine);
        int m = 33;
        int n = 65;
        int k = 17;
        SplittableRandom random = new SplittableRandom(99);
        float[] a = uniform(random, m * k);
        float[] b = uniform(random, k * n);
        float[] c = new float[m * n];
        Arrays.fill(c, Float.NaN);
        Tensor ta = f32On(on, a, m * k);
        Tensor tb = f32On(on, b, k * n);
        Tensor tc = f32On(on, c, m * n);
        ReferenceKernels.gemm(false, false, 1, m, n, k, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
        on.gemm(false, false, 1, m, n, k, 1f, ta, 0, 0, tb, 0, 0, 0f, tc, 0, 0);
        float[] result = read(tc);
        for (float v : result) {
            assertThat(v).isFinite();
        }
        assertClose(result, c, GEMM_RTOL, gemmAtol(k), engine + " beta 0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "java"})
    void betaOneAccumulatesAndOverlappingOutputsRunInOrder(String engine) {
        CpuBackend on = engine(engine);
        int batch = 4;
        int m = 9;
        int n = 11;
        int k = 5;
        SplittableRandom random = new SplittableRandom(5);
        float[] a = uniform(random, batch * m * k);
        float[] b = uniform(random, batch * k * n);
        float[] c = uniform(random, m * n);
        Tensor ta = f32On(on, a, a.length);
        Tensor tb = f32On(on, b, b.length);
        Tensor tc = f32On(on, c, c.length);
        // strideC 0: every product adds into the same C, as a gradient accumulation would
        ReferenceKernels.gemm(true, false, batch, m, n, k, 1f, a, 0, (long) m * k, b, 0, (long) k * n, 1f, c, 0, 0);
        on.gemm(true, false, batch, m, n, k, 1f, ta, 0, (long) m * k, tb, 0, (long) k * n, 1f, tc, 0, 0);
        assertClose(read(tc), c, GEMM_RTOL, gemmAtol(batch * k), engine + " beta 1, overlapping C");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "java"})
    void degenerateProducts(String engine) {
        CpuBackend on = engine(engine);
        float[] c = {1, 2, 3, 4, 5, 6};
        Tensor tc = f32On(on, c, 6);
        Tensor nanA = f32On(on, new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 6);
        // k = 0: C = beta C
        on.gemm(false, false, 1, 2, 3, 0, 1f, nanA, 0, 0, nanA, 0, 0, 2f, tc, 0, 0);
        assertThat(read(tc)).containsExactly(2, 4, 6, 8, 10, 12);
        // alpha = 0: A and B are not read
        on.gemm(false, false, 1, 2, 3, 2, 0f, nanA, 0, 0, nanA, 0, 0, 0.5f, tc, 0, 0);
        assertThat(read(tc)).containsExactly(1, 2, 3, 4, 5, 6);
        // m = 0 or batch = 0: nothing happens
        on.gemm(false, false, 1, 0, 3, 2, 1f, nanA, 0, 0, nanA, 0, 0, 0f, tc, 0, 0);
        on.gemm(false, false, 0, 2, 3, 2, 1f, nanA, 0, 0, nanA, 0, 0, 0f, tc, 0, 0);
        assertThat(read(tc)).containsExactly(1, 2, 3, 4, 5, 6);
        // alpha = 0, beta = 0: zeros
        on.gemm(false, false, 1, 2, 3, 2, 0f, nanA, 0, 0, nanA, 0, 0, 0f, tc, 0, 0);
        assertThat(read(tc)).containsOnly(0f);
    }

    @Test
    void outputsAreDisjointWhenWholeMatricesOrSideBySideColumnsApart() {
        assertThat(GemmEngine.disjointOutputs(1, 5, 5, 0, 5)).isTrue();
        assertThat(GemmEngine.disjointOutputs(3, 4, 5, 20, 5)).isTrue();           // dense, back to back
        assertThat(GemmEngine.disjointOutputs(3, 4, 5, 19, 5)).isFalse();          // last row overlaps
        assertThat(GemmEngine.disjointOutputs(4, 8, 16, 0, 16)).isFalse();         // all into one C
        assertThat(GemmEngine.disjointOutputs(12, 256, 64, 64, 768)).isTrue();     // heads within a row
        assertThat(GemmEngine.disjointOutputs(13, 256, 64, 64, 768)).isFalse();    // one head too many
        assertThat(GemmEngine.disjointOutputs(12, 256, 64, 32, 768)).isFalse();    // heads overlap
    }

    @Test
    void deviceSaysWhichGemmRuns() {
        assertThat(javaGemm.nativeGemm()).isFalse();
        assertThat(javaGemm.device()).isEqualTo("CPU, 3 threads, pure-Java GEMM (forced by configuration)");
        if (backend.nativeGemm()) {
            assertThat(backend.device()).startsWith("CPU, 3 threads, ").containsIgnoringCase("BLAS");
        } else {
            assertThat(backend.device()).isEqualTo("CPU, 3 threads, pure-Java GEMM (no native BLAS found)");
        }
    }
}
