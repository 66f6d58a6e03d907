package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Approx.assertClose;
import static dev.cornerstone.backend.cpu.Tolerances.F32_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.F32_RTOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_ATOL;
import static dev.cornerstone.backend.cpu.Tolerances.REDUCTION_RTOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/** Fused softmax cross-entropy forward and backward against {@link ReferenceKernels}. */
class CrossEntropyKernelsTest extends KernelTestBase {

    /** (N, V): a vocabulary of 1, primes, and GPT-2's 50257. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1), Arguments.of(7, 13), Arguments.of(13, 7), Arguments.of(97, 31),
                Arguments.of(31, 97), Arguments.of(256, 1000), Arguments.of(6, 50_257));
    }

    @ParameterizedTest(name = "N={0} V={1}")
    @MethodSource("shapes")
    void forwardAndBackwardWithIgnoredRows(int n, int v) {
        SplittableRandom random = new SplittableRandom(n * 131L + v);
        float[] logits = uniform(random, n * v, -8, 8);
        int[] targets = random.ints(n, 0, v).toArray();
        for (int i = 2; i < n; i += 3) {
            targets[i] = -1;                                     // ignored rows (padding)
        }
        Tensor tlogits = f32(logits, n, v);
        Tensor ttargets = i32(targets, n);
        Tensor probs = zeros(n, v);
        Tensor losses = zeros(n);
        float[] probsExpected = new float[n * v];
        float[] lossesExpected = new float[n];
        ReferenceKernels.crossEntropyForward(logits, targets, probsExpected, lossesExpected);
        backend.crossEntropyForward(tlogits, ttargets, probs, losses);
        assertClose(read(probs), probsExpected, REDUCTION_RTOL, F32_ATOL, "probs");
        assertClose(read(losses), lossesExpected, F32_RTOL, F32_ATOL, "losses");
        float[] actualLosses = read(losses);
        for (int i = 0; i < n; i++) {
            if (targets[i] < 0) {
                assertThat(actualLosses[i]).as("loss of an ignored row").isZero();
            }
        }

        float[] dlosses = uniform(random, n, 0.1, 1);
        float[] dlogits = uniform(random, n * v);                // existing gradient: added to
        Tensor tdlogits = f32(dlogits, n, v);
        float[] dlogitsExpected = Arrays.copyOf(dlogits, dlogits.length);
        ReferenceKernels.crossEntropyBackward(probsExpected, targets, dlosses, dlogitsExpected);
        backend.crossEntropyBackward(f32(probsExpected, n, v), ttargets, f32(dlosses, n), tdlogits);
        float[] actual = read(tdlogits);
        assertClose(actual, dlogitsExpected, REDUCTION_RTOL, REDUCTION_ATOL, "dlogits");
        for (int i = 0; i < n; i++) {
            if (targets[i] < 0) {
                assertThat(Arrays.copyOfRange(actual, i * v, (i + 1) * v))
                        .as("ignored row keeps its gradient").isEqualTo(Arrays.copyOfRange(dlogits, i * v, (i + 1) * v));
            }
        }
    }

    @Test
    void aProbabilityThatUnderflowsStillGivesAFiniteLoss() {
        float[] logits = {0f, 200f, -200f};
        int[] targets = {2};
        Tensor probs = zeros(1, 3);
        Tensor losses = zeros(1);
        backend.crossEntropyForward(f32(logits, 1, 3), i32(targets, 1), probs, losses);
        assertThat(read(losses)[0]).isCloseTo(400f, org.assertj.core.data.Offset.offset(1e-3f));
    }
}
