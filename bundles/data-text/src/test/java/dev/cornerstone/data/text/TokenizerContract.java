package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every tokenizer of this bundle promises; each tokenizer's test subclasses it.
 */
abstract class TokenizerContract {

    /** The tokenizer under test. */
    abstract Tokenizer tokenizer();

    /** A text made only of what the tokenizer can represent, so it must round-trip exactly. */
    abstract String representableText();

    @Test
    void roundTripsRepresentableText() {
        String text = representableText();
        assertThat(tokenizer().decode(tokenizer().encode(text))).isEqualTo(text);
    }

    @Test
    void idsAreInsideTheVocabulary() {
        int[] ids = tokenizer().encode(representableText() + "\u0000\uFFFF\uD83D\uDE00 unseen ℵ \uD800");
        assertThat(ids).isNotEmpty();
        assertThat(java.util.stream.IntStream.of(ids).boxed().toList())
                .allSatisfy(id -> assertThat(id).isBetween(0, tokenizer().vocabSize() - 1));
    }

    @Test
    void emptyTextIsNoIds() {
        assertThat(tokenizer().encode("")).isEmpty();
        assertThat(tokenizer().decode(new int[0])).isEmpty();
    }

    @Test
    void descriptionRebuildsTheSameIds() {
        var rebuilt = new TextDatasetProvider().tokenizer(tokenizer().describe());
        String text = representableText();
        assertThat(rebuilt.name()).isEqualTo(tokenizer().name());
        assertThat(rebuilt.vocabSize()).isEqualTo(tokenizer().vocabSize());
        assertThat(rebuilt.encode(text)).isEqualTo(tokenizer().encode(text));
        assertThat(rebuilt.describe()).isEqualTo(tokenizer().describe());
    }

    @Test
    void describeNamesItsType() {
        assertThat(tokenizer().describe()).containsEntry("type", tokenizer().name());
    }

    @Test
    void idsOutsideTheVocabularyAreRejectedByDecode() {
        int size = tokenizer().vocabSize();
        assertThatThrownBy(() -> tokenizer().decode(new int[] {0, size}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("id " + size + " at position 1");
        assertThatThrownBy(() -> tokenizer().decode(new int[] {-1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("id -1 at position 0");
    }
}
