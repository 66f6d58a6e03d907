package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_RTOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/**
 * Causal attention forward and backward against {@link ReferenceKernels}, on both GEMM engines
 * (the products run as GEMMs with leading dimensions straight out of qkv).
 */
class AttentionKernelsTest extends KernelTestBase {

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

    /** (engine, B, T, C, NH). */
    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (String engine : List.of("default", "java")) {
            for (int[] s : new int[][] {{1, 1, 1, 1}, {1, 7, 13, 1}, {2, 13, 12, 3}, {2, 31, 16, 4}, {3, 97, 14, 2},
                {2, 64, 128, 4}, {1, 130, 96, 2}}) {
                cases.add(Arguments.of(engine, s[0], s[1], s[2], s[3]));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} B={1} T={2} C={3} NH={4}")
    @MethodSource("shapes")
    void forwardAndBackward(String engine, int b, int t, int c, int nh) {
        CpuBackend on = engine.equals("java") ? javaGemm : backend;
        SplittableRandom random = new SplittableRandom(b * 1000L + t * 10L + c + nh);
        float[] qkv = uniform(random, b * t * 3 * c, -2, 2);
        Tensor tqkv = f32On(on, qkv, b, t, 3 * c);
        Tensor att = zerosOn(on, b, nh, t, t);
        Tensor out = zerosOn(on, b, t, c);
        float[] attExpected = new float[b * nh * t * t];
        float[] outExpected = new float[b * t * c];
        ReferenceKernels.attentionForward(qkv, attExpected, outExpected, b, t, c, nh);
        on.attentionForward(tqkv, att, out, b, t, c, nh);
        float[] attActual = read(att);
        assertClose(attActual, attExpected, REDUCTION_RTOL, REDUCTION_ATOL, "att");
        assertClose(read(out), outExpected, REDUCTION_RTOL, REDUCTION_ATOL, "out");
        for (int row = 0; row < b * nh * t; row++) {
            int ti = row % t;
            for (int t2 = ti + 1; t2 < t; t2++) {
                assertThat(attActual[row * t + t2]).as("att above the diagonal").isZero();
            }
        }

        float[] dout = uniform(random, b * t * c);
        float[] dqkv = uniform(random, qkv.length);               // existing gradient: added to
        Tensor tdqkv = f32On(on, dqkv, b, t, 3 * c);
        float[] dqkvExpected = Arrays.copyOf(dqkv, dqkv.length);
        ReferenceKernels.attentionBackward(dout, qkv, attExpected, dqkvExpected, b, t, c, nh);
        on.attentionBackward(f32On(on, dout, b, t, c), tqkv, f32On(on, attExpected, b, nh, t, t), tdqkv, b, t, c, nh);
        assertClose(read(tdqkv), dqkvExpected, REDUCTION_RTOL, REDUCTION_ATOL, "dqkv");
    }
}
