package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CharTokenizerTest extends TokenizerContract {

    private static final String TRAINING = "hello world\nÜnïcødé: 漢字 and 🙂 (U+1F642)";

    private final CharTokenizer tokenizer = CharTokenizer.fromText(TRAINING);

    @Override
    Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    String representableText() {
        return "hello 漢字 🙂 world: Ünïcødé\n(U+1F642)";
    }

    @Test
    void vocabularyIsTheSortedDistinctCodePointsThenUnk() {
        var small = CharTokenizer.fromText("hello");
        assertThat(small.chars()).isEqualTo("ehlo");
        assertThat(small.vocabSize()).isEqualTo(5);
        assertThat(small.unknownId()).isEqualTo(4);
        assertThat(small.encode("hello")).containsExactly(1, 0, 2, 2, 3);
    }

    @Test
    void aSupplementaryCharacterIsOneToken() {
        var emoji = CharTokenizer.fromText("a🙂b");
        // Sorted by code point: 'a' (U+61) < 'b' (U+62) < U+1F642, not by UTF-16 unit.
        assertThat(emoji.chars()).isEqualTo("ab🙂");
        assertThat(emoji.encode("🙂a")).containsExactly(2, 0);
        assertThat(emoji.decode(new int[] {2, 1})).isEqualTo("🙂b");
    }

    @Test
    void codePointOrderIsNotUtf16Order() {
        // U+FF01 sorts above U+1F642's high surrogate (U+D83D) in UTF-16 order, below it in code point order.
        var mixed = CharTokenizer.fromText("🙂！");
        assertThat(mixed.chars()).isEqualTo("！🙂");
    }

    @Test
    void unseenCharactersEncodeToUnkAndDecodeToTheReplacementCharacter() {
        var small = CharTokenizer.fromText("abc");
        int[] ids = small.encode("abXc€🙂");
        assertThat(ids).containsExactly(0, 1, 3, 2, 3, 3);
        assertThat(small.decode(ids)).isEqualTo("ab\uFFFDc\uFFFD\uFFFD");
    }

    @Test
    void loneSurrogatesNeverEnterTheVocabularyAndEncodeToUnk() {
        var withSurrogate = CharTokenizer.fromText("a\uD800b");
        assertThat(withSurrogate.chars()).isEqualTo("ab");
        assertThat(withSurrogate.encode("\uDC00a")).containsExactly(2, 0);
    }

    @Test
    void aTextWithoutCharactersHasNoVocabulary() {
        assertThatThrownBy(() -> CharTokenizer.fromText(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the text is empty");
        assertThatThrownBy(() -> CharTokenizer.fromText("\uD800"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void describeHoldsTheVocabularyAsOneString() {
        assertThat(CharTokenizer.fromText("cab").describe())
                .containsExactly(
                        org.assertj.core.api.Assertions.entry("type", "char"),
                        org.assertj.core.api.Assertions.entry("chars", "abc"),
                        org.assertj.core.api.Assertions.entry("unk", true));
    }

    @Test
    void fromVocabularyKeepsTheGivenIds() {
        assertThat(CharTokenizer.fromVocabulary("abc")).isEqualTo(CharTokenizer.fromText("cabcab"));
    }
}
