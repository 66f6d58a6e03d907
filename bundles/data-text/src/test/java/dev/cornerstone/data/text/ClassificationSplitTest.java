package dev.cornerstone.data.text;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ClassificationSplitTest {

    private static final List<ClassificationExample> EXAMPLES = IntStream.range(0, 2000)
            .mapToObj(i -> new ClassificationExample(i + 1, "doc-" + i, "text " + i, i % 2 == 0 ? "a" : "b"))
            .toList();

    @Test
    void positionsAreTheTop53BitsOfSha256() {
        // Python: (int.from_bytes(hashlib.sha256(b"easy-ham-1/00001").digest()[:8], "big") >> 11) / 2**53
        assertThat(ClassificationSplit.position("easy-ham-1/00001")).isEqualTo(0.3097308284915429);
        assertThat(ClassificationSplit.position("hello")).isEqualTo(0.17557225990430192);
    }

    @Test
    void theSplitIsTheSameOnEveryRunAndInAnyOrder() {
        var first = ClassificationSplit.of(EXAMPLES, 0.1);
        var shuffled = new ArrayList<>(EXAMPLES);
        Collections.reverse(shuffled);
        var second = ClassificationSplit.of(shuffled, 0.1);
        assertThat(second.validation()).containsExactlyInAnyOrderElementsOf(first.validation());
        assertThat(first.train().size() + first.validation().size()).isEqualTo(EXAMPLES.size());
        assertThat(first.validation().size() / (double) EXAMPLES.size()).isCloseTo(0.1, within(0.02));
    }

    @Test
    void anExampleKeepsItsSideWhenOthersAreAdded() {
        var small = ClassificationSplit.of(EXAMPLES.subList(0, 500), 0.2);
        var large = ClassificationSplit.of(EXAMPLES, 0.2);
        assertThat(large.validation()).containsAll(small.validation());
        assertThat(large.train()).containsAll(small.train());
    }

    @Test
    void aLargerFractionOnlyMovesExamplesIntoValidation() {
        var ten = ClassificationSplit.of(EXAMPLES, 0.1);
        var twenty = ClassificationSplit.of(EXAMPLES, 0.2);
        assertThat(twenty.validation()).containsAll(ten.validation());
    }

    @Test
    void withoutAnIdTheTextIsTheKey() {
        var withoutId = new ClassificationExample(1, null, "same text", "a");
        var sameTextOtherLine = new ClassificationExample(9, null, "same text", "b");
        assertThat(withoutId.splitKey()).isEqualTo("same text");
        boolean side = ClassificationSplit.of(List.of(withoutId), 0.5).validation().isEmpty();
        assertThat(ClassificationSplit.of(List.of(sameTextOtherLine), 0.5).validation().isEmpty()).isEqualTo(side);
    }

    @Test
    void fractionsZeroAndOneAreAllTrainAndAllValidation() {
        assertThat(ClassificationSplit.of(EXAMPLES, 0).train()).hasSize(EXAMPLES.size());
        assertThat(ClassificationSplit.of(EXAMPLES, 1).validation()).hasSize(EXAMPLES.size());
    }

    @Test
    void fractionOutsideTheUnitIntervalIsRejected() {
        for (double bad : new double[] {-0.01, 1.01, Double.NaN}) {
            assertThatThrownBy(() -> ClassificationSplit.of(EXAMPLES, bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("validation fraction " + bad + " is out of range; allowed: a number in [0, 1]");
        }
    }
}
