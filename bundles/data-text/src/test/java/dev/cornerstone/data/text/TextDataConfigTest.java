package dev.cornerstone.data.text;

import dev.cornerstone.data.text.TextDataConfig.Split;
import dev.cornerstone.data.text.TextDataConfig.TokenizerType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextDataConfigTest {

    @Test
    void defaults() {
        assertThat(TextDataConfig.parse(Map.of("path", "corpus.txt")))
                .isEqualTo(new TextDataConfig("corpus.txt", TokenizerType.CHAR, 0.1, Split.TAIL));
    }

    @Test
    void everyKey() {
        var config = Map.<String, Object>of("path", "books", "tokenizer", "byte", "val_fraction", 0.25, "split", "tail");
        assertThat(TextDataConfig.parse(config))
                .isEqualTo(new TextDataConfig("books", TokenizerType.BYTE, 0.25, Split.TAIL));
    }

    @Test
    void numbersOfEveryKindYamlAndJsonGive() {
        for (Object zero : List.of(0, 0L, 0.0, 0.0f, BigDecimal.ZERO)) {
            assertThat(TextDataConfig.parse(Map.of("path", "a", "val_fraction", zero)).valFraction()).isZero();
        }
        assertThat(TextDataConfig.parse(Map.of("path", "a", "val_fraction", 0.5)).valFraction()).isEqualTo(0.5);
        assertThat(TextDataConfig.parse(Map.of("path", "a", "val_fraction", new BigDecimal("0.05"))).valFraction())
                .isEqualTo(0.05);
    }

    @Test
    void theNameItselfIsTolerated() {
        assertThat(TextDataConfig.parse(Map.of("name", "text", "path", "a")).path()).isEqualTo("a");
        assertRejected(Map.of("name", "images", "path", "a"), "data.name: unknown key");
    }

    @Test
    void unknownKeysAreNamedWithTheAllowedOnes() {
        assertRejected(Map.of("path", "a", "val_frac", 0.1),
                "data.val_frac: unknown key; allowed keys: path, tokenizer, val_fraction, split, jsonl_path, jsonl_holdout");
    }

    @Test
    void pathIsRequiredAndAString() {
        assertRejected(Map.of(), "data.path: missing; required: a UTF-8 text file or a folder of *.txt files");
        assertRejected(null, "data.path: missing");
        assertRejected(Map.of("path", 42), "data.path: 42 (Integer) is not a path");
        assertRejected(Map.of("path", " "), "data.path: \" \" is not a path");
        assertRejected(Map.of("path", List.of("a.txt", "b.txt")), "data.path: [a.txt, b.txt] (");
    }

    @Test
    void tokenizerMustBeCharOrByte() {
        assertRejected(Map.of("path", "a", "tokenizer", "bpe"), "data.tokenizer: \"bpe\" is not supported; allowed: char, byte");
        assertRejected(Map.of("path", "a", "tokenizer", "CHAR"), "data.tokenizer: \"CHAR\" is not supported; allowed: char, byte");
        assertRejected(Map.of("path", "a", "tokenizer", true), "data.tokenizer: true (Boolean) is not supported; allowed: char, byte");
    }

    @Test
    void splitMustBeTail() {
        assertRejected(Map.of("path", "a", "split", "random"), "data.split: \"random\" is not supported; allowed: tail");
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.1, 0.51, 1.0, Double.NaN, Double.POSITIVE_INFINITY})
    void valFractionOutOfRange(double fraction) {
        assertRejected(Map.of("path", "a", "val_fraction", fraction),
                "data.val_fraction: " + fraction + " is out of range; allowed: a number in [0, 0.5]");
    }

    @Test
    void valFractionMustBeANumber() {
        assertRejected(Map.of("path", "a", "val_fraction", "0.1"),
                "data.val_fraction: \"0.1\" is not a number; allowed: a number in [0, 0.5]");
        assertRejected(Map.of("path", "a", "val_fraction", false), "data.val_fraction: false (Boolean) is not a number");
    }

    @Test
    void nullMeansTheDefault() {
        var config = new HashMap<String, Object>();
        config.put("path", "a");
        config.put("tokenizer", null);
        config.put("val_fraction", null);
        assertThat(TextDataConfig.parse(config))
                .isEqualTo(new TextDataConfig("a", TokenizerType.CHAR, 0.1, Split.TAIL));
    }

    private static void assertRejected(Map<String, Object> config, String message) {
        assertThatThrownBy(() -> TextDataConfig.parse(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
