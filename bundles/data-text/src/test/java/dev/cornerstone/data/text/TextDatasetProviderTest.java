package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Dataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextDatasetProviderTest {

    @TempDir
    Path dir;

    private final TextDatasetProvider provider = new TextDatasetProvider();

    @Test
    void itIsTheTextDataset() {
        assertThat(provider.name()).isEqualTo("text");
    }

    @Test
    void tailSplitHoldsOutTheLastFractionAsNanoGpt() throws IOException {
        write("corpus.txt", "abcdefghij".repeat(10));
        Dataset data = provider.open(Map.of("path", "corpus.txt", "val_fraction", 0.2), dir);
        // int(100 * (1 - 0.2)) = 80
        assertThat(data.train()).hasSize(80);
        assertThat(data.validation()).hasSize(20);
        assertThat(data.tokenizer().decode(data.validation())).isEqualTo("abcdefghij".repeat(2));
        assertThat(data.source())
                .contains("text: file " + dir.resolve("corpus.txt"))
                .contains("100 bytes, 100 characters")
                .contains("char tokenizer (11 ids)")
                .contains("tail split, val_fraction 0.2: 80 training + 20 validation tokens");
    }

    @Test
    void theSameSpecGivesTheSameIds() throws IOException {
        write("corpus.txt", "the quick brown fox jumps over the lazy dog\n".repeat(5));
        Dataset first = provider.open(Map.of("path", "corpus.txt"), dir);
        Dataset second = provider.open(Map.of("path", "corpus.txt"), dir);
        assertThat(second.train()).isEqualTo(first.train());
        assertThat(second.validation()).isEqualTo(first.validation());
        assertThat(second.tokenizer().describe()).isEqualTo(first.tokenizer().describe());
    }

    @Test
    void theTextsOfAJsonlSetFollowTheCorpusLeavingOutItsHeldOutRecords() throws IOException {
        write("corpus.txt", "abc");
        var lines = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            lines.append("{\"id\": \"m").append(i).append("\", \"text\": \"mail ").append(i)
                    .append(" \u00e9\"").append(i % 2 == 0 ? ", \"label\": \"ham\"" : "").append("}\n");
        }
        write("mails.jsonl", lines.toString());
        Dataset data = provider.open(Map.of("path", "corpus.txt", "val_fraction", 0, "jsonl_path", "mails.jsonl",
                "jsonl_holdout", 0.25), dir);
        String text = data.tokenizer().decode(data.train());
        var kept = new StringBuilder("abc");
        int heldOut = 0;
        for (int i = 0; i < 40; i++) {
            if (ClassificationSplit.position("m" + i) < 0.25) {
                heldOut++;
                assertThat(text).doesNotContain("mail " + i + " ");
            } else {
                kept.append("\nmail ").append(i).append(" \u00e9");
            }
        }
        assertThat(heldOut).as("the hash split held some out").isBetween(3, 20);
        assertThat(text).isEqualTo(kept.toString());
        assertThat(data.tokenizer().encode("\u00e9")).as("the mails' characters are in the vocabulary")
                .doesNotContain(data.tokenizer().vocabSize() - 1);
        assertThat(data.source()).contains("the text of " + (40 - heldOut) + " records of").contains(heldOut + " held out");
    }

    @Test
    void aBadJsonlSetNamesTheKeyTheFileAndTheLine() throws IOException {
        write("corpus.txt", "abc");
        write("mails.jsonl", "{\"text\": \"a\"}\n{\"subject\": \"no text\"}\n");
        assertThatThrownBy(() -> provider.open(Map.of("path", "corpus.txt", "jsonl_path", "mails.jsonl"), dir))
                .hasMessageStartingWith("data.jsonl_path: " + dir.resolve("mails.jsonl") + " line 2: ")
                .hasMessageContaining("\"text\" is missing");
        assertThatThrownBy(() -> provider.open(Map.of("path", "corpus.txt", "jsonl_holdout", 0.2), dir))
                .hasMessageContaining("data.jsonl_holdout: only means something with data.jsonl_path");
        assertThatThrownBy(() -> provider.open(Map.of("path", "corpus.txt", "jsonl_path", "mails.jsonl",
                "jsonl_holdout", 1.5), dir))
                .hasMessageContaining("data.jsonl_holdout: 1.5 (Double) is not allowed");
    }

    @Test
    void noValidationWithFractionZero() throws IOException {
        write("tiny.txt", "ab");
        Dataset data = provider.open(Map.of("path", "tiny.txt", "val_fraction", 0), dir);
        assertThat(data.train()).containsExactly(0, 1);
        assertThat(data.validation()).isEmpty();
    }

    @Test
    void byteTokenizerSplitsBytes() throws IOException {
        write("corpus.txt", "é".repeat(10));
        Dataset data = provider.open(Map.of("path", "corpus.txt", "tokenizer", "byte", "val_fraction", 0.1), dir);
        assertThat(data.tokenizer()).isSameAs(ByteTokenizer.INSTANCE);
        assertThat(data.train()).hasSize(18);
        assertThat(data.validation()).containsExactly(0xC3, 0xA9);
        assertThat(data.source()).contains("byte tokenizer (256 ids)");
    }

    @Test
    void theCharVocabularyCoversValidationToo() throws IOException {
        write("corpus.txt", "a".repeat(18) + "zz");
        Dataset data = provider.open(Map.of("path", "corpus.txt"), dir);
        var tokenizer = (CharTokenizer) data.tokenizer();
        assertThat(tokenizer.chars()).isEqualTo("az");
        assertThat(data.validation()).containsExactly(1, 1);
    }

    @Test
    void relativePathsResolveAgainstBaseDirAbsoluteOnesDoNot() throws IOException {
        Path nested = Files.createDirectories(dir.resolve("data"));
        Files.writeString(nested.resolve("c.txt"), "hello world");
        assertThat(provider.open(Map.of("path", "data/c.txt"), dir).train()).hasSize(9);
        assertThat(provider.open(Map.of("path", nested.resolve("c.txt").toString()), Path.of("/nonexistent")).train())
                .hasSize(9);
    }

    @Test
    void aFolderIsItsTxtFilesInNameOrderJoinedByNewlines() throws IOException {
        Path books = Files.createDirectories(dir.resolve("books"));
        Files.writeString(books.resolve("b.txt"), "second");
        Files.writeString(books.resolve("a.txt"), "first");
        Files.writeString(books.resolve("c.txt"), "third\n");
        Files.writeString(books.resolve("notes.md"), "not read");
        Files.writeString(books.resolve("UPPER.TXT"), "not read either");
        Files.createDirectories(books.resolve("sub.txt"));
        Files.writeString(Files.createDirectories(books.resolve("nested")).resolve("d.txt"), "not read");
        Dataset data = provider.open(Map.of("path", "books", "val_fraction", 0), dir);
        assertThat(data.tokenizer().decode(data.train())).isEqualTo("first\nsecond\nthird\n");
        assertThat(data.source()).contains("folder " + books + " (3 *.txt files)");
    }

    @Test
    void emptyFilesInAFolderStillGetTheirSeparator() throws IOException {
        Path books = Files.createDirectories(dir.resolve("books"));
        Files.writeString(books.resolve("1.txt"), "ab");
        Files.writeString(books.resolve("2.txt"), "");
        Files.writeString(books.resolve("3.txt"), "cd");
        Dataset data = provider.open(Map.of("path", "books", "val_fraction", 0), dir);
        assertThat(data.tokenizer().decode(data.train())).isEqualTo("ab\n\ncd");
    }

    @Test
    void lineEndsAreNormalizedAndAByteOrderMarkDropped() throws IOException {
        write("windows.txt", "\uFEFFone\r\ntwo\rthree\n");
        Dataset data = provider.open(Map.of("path", "windows.txt", "val_fraction", 0), dir);
        assertThat(data.tokenizer().decode(data.train())).isEqualTo("one\ntwo\nthree\n");
        assertThat(((CharTokenizer) data.tokenizer()).chars()).doesNotContain("\r", "\uFEFF");
    }

    @Test
    void supplementaryCharactersAreOneTokenEach() throws IOException {
        write("emoji.txt", "🐋🐋🙂🙂🐋🐋🙂🙂🐋🙂");
        Dataset data = provider.open(Map.of("path", "emoji.txt", "val_fraction", 0.2), dir);
        assertThat(data.tokenizer().vocabSize()).isEqualTo(3);
        assertThat(data.train().length + data.validation().length).isEqualTo(10);
    }

    @Test
    void aMissingFileIsNamed() {
        assertRejected(Map.of("path", "nope.txt"), "data.path: file not found: " + dir.resolve("nope.txt"));
    }

    @Test
    void anEmptyFileIsNamed() throws IOException {
        write("empty.txt", "");
        assertRejected(Map.of("path", "empty.txt"), "data.path: the corpus is empty: " + dir.resolve("empty.txt"));
    }

    @Test
    void aFolderOfEmptyFilesIsEmpty() throws IOException {
        Path books = Files.createDirectories(dir.resolve("books"));
        Files.writeString(books.resolve("a.txt"), "");
        assertRejected(Map.of("path", "books"), "data.path: the corpus is empty: " + books);
    }

    @Test
    void aFolderWithoutTxtFilesIsNamed() throws IOException {
        Path books = Files.createDirectories(dir.resolve("books"));
        Files.writeString(books.resolve("a.md"), "text");
        assertRejected(Map.of("path", "books"), "data.path: folder " + books + " has no *.txt files");
    }

    @Test
    void malformedUtf8IsNamedWithItsOffset() throws IOException {
        Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9, '!'});
        assertRejected(Map.of("path", "latin1.txt"),
                "data.path: " + dir.resolve("latin1.txt") + " is not valid UTF-8: malformed byte sequence at byte offset 3");
    }

    @Test
    void aCorpusTooSmallForItsSplitIsRejected() throws IOException {
        write("small.txt", "abcde");
        // int(5 * 0.9) = 4: one validation token, no target for it.
        assertRejected(Map.of("path", "small.txt"),
                "data.path: the corpus " + dir.resolve("small.txt") + " is too small for its split: 5 char tokens, "
                        + "data.val_fraction 0.1 gives 4 training and 1 validation tokens; each split needs at least 2");
        write("one.txt", "a");
        assertRejected(Map.of("path", "one.txt", "val_fraction", 0), "gives 1 training and 0 validation tokens");
    }

    @Test
    void badConfigurationIsRejectedBeforeAnyFileIsRead() {
        assertRejected(Map.of("path", "nope.txt", "tokenizer", "bpe"), "data.tokenizer: \"bpe\" is not supported");
        assertRejected(Map.of("path", "nope.txt", "shuffle", true), "data.shuffle: unknown key");
    }

    @Test
    void largeCorporaAreReadWhole() throws IOException {
        String line = IntStream.range(0, 1000).mapToObj(i -> "line " + i + " ✓\n").reduce("", String::concat);
        write("big.txt", line.repeat(50));
        Dataset data = provider.open(Map.of("path", "big.txt"), dir);
        int[] all = IntStream.concat(IntStream.of(data.train()), IntStream.of(data.validation())).toArray();
        assertThat(data.tokenizer().decode(all)).isEqualTo(line.repeat(50));
    }

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private void assertRejected(Map<String, Object> config, String message) {
        assertThatThrownBy(() -> provider.open(config, dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
