package dev.cornerstone.data.text;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerDescriptionsTest {

    private final TextDatasetProvider provider = new TextDatasetProvider();

    @Test
    void rebuildsByteAndCharTokenizers() {
        assertThat(provider.tokenizer(Map.of("type", "byte"))).isSameAs(ByteTokenizer.INSTANCE);
        var chars = provider.tokenizer(Map.of("type", "char", "chars", "\n !ab🙂", "unk", true));
        assertThat(chars).isEqualTo(CharTokenizer.fromVocabulary("\n !ab🙂"));
        assertThat(chars.vocabSize()).isEqualTo(7);
    }

    @Test
    void unkMayBeLeftOut() {
        assertThat(provider.tokenizer(Map.of("type", "char", "chars", "ab")).vocabSize()).isEqualTo(3);
    }

    @Test
    void aMissingDescriptionIsRejected() {
        assertRejected(null, "tokenizer description is missing");
    }

    @Test
    void theTypeMustBeKnown() {
        assertRejected(Map.of(), "\"type\" must be one of char, byte, got null");
        assertRejected(Map.of("type", 3), "\"type\" must be one of char, byte, got 3 (Integer)");
        assertRejected(Map.of("type", "bpe"), "\"type\" \"bpe\" is not supported; allowed: char, byte");
    }

    @Test
    void unknownMembersAreRejected() {
        assertRejected(Map.of("type", "byte", "vocab_size", 256), "unknown member \"vocab_size\"; allowed: type");
        assertRejected(Map.of("type", "char", "chars", "ab", "merges", "x"),
                "unknown member \"merges\"; allowed: chars, type, unk");
    }

    @Test
    void charsMustBeOneSortedStringOfWholeCharacters() {
        assertRejected(Map.of("type", "char"), "\"chars\" must be the vocabulary as one string, got null");
        assertRejected(Map.of("type", "char", "chars", 5), "\"chars\" must be the vocabulary as one string, got 5 (Integer)");
        assertRejected(Map.of("type", "char", "chars", ""), "\"chars\" is empty");
        assertRejected(Map.of("type", "char", "chars", "ba"), "but U+0061 at index 1 follows U+0062");
        assertRejected(Map.of("type", "char", "chars", "abb"), "sorted by code point without repeats");
        assertRejected(Map.of("type", "char", "chars", "a\uD800"), "lone surrogate U+D800 at index 1");
    }

    @Test
    void unkMustBeTrue() {
        assertRejected(Map.of("type", "char", "chars", "ab", "unk", false), "\"unk\" must be true");
        assertRejected(Map.of("type", "char", "chars", "ab", "unk", "yes"), "\"unk\" must be true");
    }

    private void assertRejected(Map<String, Object> description, String message) {
        Map<String, Object> copy = description == null ? null : new HashMap<>(description);
        assertThatThrownBy(() -> provider.tokenizer(copy))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
