package dev.cornerstone.data.text;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.within;

/** The fine-tuning set, {@code spamassassin-train.jsonl.gz}: 3,250 mails, 2,750 ham and 500 spam per its README. */
class SpamAssassinTest {

    private static Path file;
    private static List<ClassificationExample> examples;

    @BeforeAll
    static void read() throws IOException {
        file = SharedData.file("spamassassin-train.jsonl.gz");
        examples = ClassificationJsonl.read(file);
    }

    @Test
    void countsMatchTheReadme() {
        assertThat(examples).hasSize(3250);
        assertThat(countByLabel(examples)).containsOnly(entry("ham", 2750L), entry("spam", 500L));
        assertThat(examples).allSatisfy(e -> assertThat(e.id()).isNotNull());
        assertThat(examples.stream().map(ClassificationExample::id).distinct()).hasSize(3250);
        assertThat(examples.getFirst())
                .extracting(ClassificationExample::line, ClassificationExample::id, ClassificationExample::label)
                .containsExactly(1, "easy-ham-1/00001", "ham");
    }

    @Test
    void theSplitIsStableAcrossRunsAndNearTheFraction() throws IOException {
        var first = ClassificationSplit.of(examples, 0.1);
        var second = ClassificationSplit.of(ClassificationJsonl.read(file), 0.1);
        assertThat(second).isEqualTo(first);
        // The same ids as the Python one-liner in ClassificationSplit's Javadoc gives.
        assertThat(first.validation()).hasSize(367);
        assertThat(first.train()).hasSize(2883);
        assertThat(countByLabel(first.validation())).containsOnly(entry("ham", 307L), entry("spam", 60L));
        assertThat(first.validation().size() / 3250.0).isCloseTo(0.1, within(0.02));
    }

    private static Map<String, Long> countByLabel(List<ClassificationExample> list) {
        return list.stream().collect(Collectors.groupingBy(ClassificationExample::label, Collectors.counting()));
    }
}
