package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ByteTokenizerTest extends TokenizerContract {

    private final ByteTokenizer tokenizer = ByteTokenizer.INSTANCE;

    @Override
    Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    String representableText() {
        return "Call me Ishmael. 漢字かな交じり文 🐋🙂👩‍👩‍👧 Ünïcødé \u0000\t\r\n\uFFFF \uD83D\uDE00 Ωμέγα";
    }

    @Test
    void vocabularyIsTheByteValues() {
        assertThat(tokenizer.vocabSize()).isEqualTo(256);
        assertThat(tokenizer.describe()).containsOnlyKeys("type").containsEntry("type", "byte");
    }

    @Test
    void idsAreTheUtf8Bytes() {
        assertThat(tokenizer.encode("aé€🙂"))
                .containsExactly(0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x99, 0x82);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ascii only", "漢字", "🐋", "👨‍👩‍👧‍👦 family", "e\u0301 combining", "\u202Eright-to-left", "\uFEFFbom"})
    void anyWellFormedTextRoundTrips(String text) {
        int[] ids = tokenizer.encode(text);
        assertThat(ids).hasSize(text.getBytes(StandardCharsets.UTF_8).length);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void everyCodePointRoundTrips() {
        var all = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE) {
                all.appendCodePoint(cp);
            }
        }
        String text = all.toString();
        assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
    }

    @Test
    void loneSurrogatesBecomeTheReplacementCharacter() {
        // UTF-8 cannot hold half a surrogate pair; it is written as U+FFFD (EF BF BD), not '?'.
        assertThat(tokenizer.encode("a\uD800b")).containsExactly(0x61, 0xEF, 0xBF, 0xBD, 0x62);
        assertThat(tokenizer.decode(tokenizer.encode("\uDC00x\uD83D"))).isEqualTo("\uFFFDx\uFFFD");
        assertThat(tokenizer.decode(tokenizer.encode("ok \uD83D\uDE00 \uDE00\uD83D")))
                .isEqualTo("ok \uD83D\uDE00 \uFFFD\uFFFD");
    }

    @Test
    void malformedBytesDecodeToTheReplacementCharacter() {
        // A character cut in half, a stray continuation byte, an overlong '/', a byte never valid in UTF-8.
        assertThat(tokenizer.decode(new int[] {0x61, 0xE2, 0x82})).isEqualTo("a\uFFFD");
        assertThat(tokenizer.decode(new int[] {0x80, 0x62})).isEqualTo("\uFFFDb");
        assertThat(tokenizer.decode(new int[] {0xC0, 0xAF})).isEqualTo("\uFFFD\uFFFD");
        assertThat(tokenizer.decode(new int[] {0xFF})).isEqualTo("\uFFFD");
    }
}
