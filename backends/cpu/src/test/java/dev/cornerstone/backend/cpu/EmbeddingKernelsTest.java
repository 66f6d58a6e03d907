package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.testkit.ReferenceKernels;

/**
 * Embedding gather and scatter-add against {@link ReferenceKernels}. Both add in the same order
 * (each table row receives its gradients in index order), so the results are equal, not close.
 */
class EmbeddingKernelsTest extends KernelTestBase {

    /** (N ids, V rows, C channels): ids repeat (V < N) and cover the whole table. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1, 1), Arguments.of(7, 3, 13), Arguments.of(31, 97, 7), Arguments.of(97, 13, 31),
                Arguments.of(1024, 50, 768), Arguments.of(4096, 1000, 1), Arguments.of(3, 5, Tiles.TILE + 7));
    }

    @ParameterizedTest(name = "N={0} V={1} C={2}")
    @MethodSource("shapes")
    void forwardAndBackward(int n, int v, int c) {
        SplittableRandom random = new SplittableRandom(n * 7L + v * 3L + c);
        int[] ids = random.ints(n, 0, v).toArray();
        float[] table = uniform(random, v * c);
        Tensor tids = i32(ids, n);
        Tensor out = zeros(n, c);
        float[] expected = new float[n * c];
        ReferenceKernels.embeddingForward(ids, table, expected);
        backend.embeddingForward(tids, f32(table, v, c), out);
        assertThat(read(out)).isEqualTo(expected);

        float[] dout = uniform(random, n * c);
        float[] dtable = uniform(random, v * c);                  // existing gradient: added to
        Tensor tdtable = f32(dtable, v, c);
        float[] dtableExpected = Arrays.copyOf(dtable, dtable.length);
        ReferenceKernels.embeddingBackward(ids, dout, dtableExpected);
        backend.embeddingBackward(tids, f32(dout, n, c), tdtable);
        assertThat(read(tdtable)).isEqualTo(dtableExpected);
    }
}
