package dev.cornerstone.data.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClassificationJsonlTest {

    @TempDir
    Path dir;

    @Test
    void readsTheFieldsInFileOrder() throws IOException {
        Path file = write("set.jsonl", """
                {"id": "a", "text": "Hello", "label": "ham", "subject": "ignored", "extra": {"nested": [1, 2]}}
                {"label": "spam", "text": "Buy now! \\u00e9\\ud83d\\ude00\\n"}
                {"id": null, "text": "", "label": "ham"}
                """);
        assertThat(ClassificationJsonl.read(file)).containsExactly(
                new ClassificationExample(1, "a", "Hello", "ham"),
                new ClassificationExample(2, null, "Buy now! é😀\n", "spam"),
                new ClassificationExample(3, null, "", "ham"));
    }

    @Test
    void blankLinesAreSkippedButCounted() throws IOException {
        Path file = write("set.jsonl", "\n{\"text\":\"a\",\"label\":\"x\"}\r\n   \n\t\n{\"text\":\"b\",\"label\":\"y\"}");
        assertThat(ClassificationJsonl.read(file))
                .extracting(ClassificationExample::line, ClassificationExample::text)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(2, "a"),
                        org.assertj.core.groups.Tuple.tuple(5, "b"));
    }

    @Test
    void aByteOrderMarkIsDropped() throws IOException {
        Path file = write("bom.jsonl", "\uFEFF{\"text\":\"a\",\"label\":\"x\"}\n");
        assertThat(ClassificationJsonl.read(file)).hasSize(1);
    }

    @Test
    void gzipIsRecognizedByItsMagicBytesWhateverTheName() throws IOException {
        byte[] gzip = gzip("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"y\"}\n");
        Path named = Files.write(dir.resolve("set.jsonl.gz"), gzip);
        Path misnamed = Files.write(dir.resolve("set.jsonl"), gzip);
        assertThat(ClassificationJsonl.read(named)).hasSize(2);
        assertThat(ClassificationJsonl.read(misnamed)).isEqualTo(ClassificationJsonl.read(named));
        // And plain text under a .gz name is read as plain text.
        Path plain = write("plain.jsonl.gz", "{\"text\":\"a\",\"label\":\"x\"}\n");
        assertThat(ClassificationJsonl.read(plain)).hasSize(1);
    }

    @Test
    void aTruncatedGzipNamesTheFile() throws IOException {
        byte[] gzip = gzip("{\"text\":\"a\",\"label\":\"x\"}\n".repeat(1000));
        Path file = Files.write(dir.resolve("cut.jsonl.gz"), Arrays.copyOf(gzip, gzip.length / 2));
        assertThatThrownBy(() -> ClassificationJsonl.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + " line ");
    }

    @Test
    void aMissingFileNamesTheFile() {
        Path file = dir.resolve("nope.jsonl");
        assertThatThrownBy(() -> ClassificationJsonl.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file.toString())
                .hasCauseInstanceOf(NoSuchFileException.class);
    }

    @Test
    void anEmptyFileIsAnError() throws IOException {
        Map<String, String> where = Map.of("", "the file has no lines", "\r\n", "line 1 is blank",
                "\n\n  \n", "lines 1 to 3 are blank");
        for (var e : where.entrySet()) {
            Path file = write("empty.jsonl", e.getKey());
            assertThatThrownBy(() -> ClassificationJsonl.read(file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(file + ": no records (" + e.getValue() + "); a classification set needs at least one "
                            + "line {\"text\": ..., \"label\": ...}");
        }
        Path gzipped = Files.write(dir.resolve("empty.jsonl.gz"), gzip(""));
        assertThatThrownBy(() -> ClassificationJsonl.read(gzipped))
                .hasMessageStartingWith(gzipped + ": no records (the file has no lines)");
    }

    @Test
    void invalidJsonNamesTheLine() throws IOException {
        assertLineError("{\"text\": \"a\", \"label\": }", 2, "not valid JSON: Unexpected character ('}'");
        assertLineError("{\"text\": \"a\", \"label\": \"x\"", 2, "not valid JSON: Unexpected end-of-input");
        assertLineError("{'text': 'a', 'label': 'x'}", 2, "not valid JSON");
        assertLineError("{\"text\": \"a\", \"label\": \"x\"} trailing", 2, "not valid JSON");
        assertLineError("{\"text\": \"a\", \"label\": \"x\"}{\"text\": \"b\"}", 2, "more after the JSON object: an object");
    }

    @Test
    void aLineMustBeAnObject() throws IOException {
        assertLineError("[\"a\", \"x\"]", 2, "expected a JSON object {\"text\": ..., \"label\": ...}, got an array");
        assertLineError("\"text\"", 2, "expected a JSON object {\"text\": ..., \"label\": ...}, got a string");
    }

    @Test
    void missingFieldsAreNamed() throws IOException {
        assertLineError("{\"label\": \"x\"}", 2, "field \"text\" is missing");
        assertLineError("{\"text\": \"a\"}", 2, "field \"label\" is missing");
        assertLineError("{\"text\": \"a\", \"label\": null}", 2, "field \"label\" must be a string, got null");
    }

    @Test
    void nonStringFieldsAreNamed() throws IOException {
        assertLineError("{\"text\": 42, \"label\": \"x\"}", 2, "field \"text\" must be a string, got a number (42)");
        assertLineError("{\"text\": \"a\", \"label\": true}", 2, "field \"label\" must be a string, got a boolean (true)");
        assertLineError("{\"text\": [\"a\"], \"label\": \"x\"}", 2, "field \"text\" must be a string, got an array");
        assertLineError("{\"id\": 7, \"text\": \"a\", \"label\": \"x\"}", 2, "field \"id\" must be a string, got a number (7)");
        assertLineError("{\"text\": \"a\", \"label\": \" \"}", 2, "field \"label\" is blank");
    }

    @Test
    void withOptionalLabelsALabelMayBeMissingButIsStillCheckedWhenThere() throws IOException {
        Path file = write("texts.jsonl", """
                {"text": "no label here"}
                {"text": "labelled", "label": "spam"}
                {"text": "null label", "label": null}
                """);
        assertThat(ClassificationJsonl.read(file, ClassificationJsonl.Labels.OPTIONAL)).containsExactly(
                new ClassificationExample(1, null, "no label here", null),
                new ClassificationExample(2, null, "labelled", "spam"),
                new ClassificationExample(3, null, "null label", null));
        Path bad = write("bad-texts.jsonl", "{\"text\": \"a\"}\n{\"label\": \"spam\"}\n{\"text\": \"c\", \"label\": 1}\n");
        assertThatThrownBy(() -> ClassificationJsonl.read(bad, ClassificationJsonl.Labels.OPTIONAL))
                .hasMessageStartingWith(bad + " line 2: ").hasMessageContaining("field \"text\" is missing");
        Path badLabel = write("bad-label.jsonl", "{\"text\": \"a\"}\n{\"text\": \"c\", \"label\": 1}\n");
        assertThatThrownBy(() -> ClassificationJsonl.read(badLabel, ClassificationJsonl.Labels.OPTIONAL))
                .hasMessageStartingWith(badLabel + " line 2: ").hasMessageContaining("field \"label\" must be a string");
    }

    @Test
    void aRepeatedFieldIsAnError() throws IOException {
        assertLineError("{\"text\": \"a\", \"label\": \"x\", \"label\": \"y\"}", 2, "Duplicate field 'label'");
    }

    @Test
    void malformedUtf8NamesItsLine() throws IOException {
        var bytes = new ByteArrayOutputStream();
        bytes.writeBytes("{\"text\":\"a\",\"label\":\"x\"}\n".repeat(3000).getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xE9, '"', '}', '\n'});
        Path file = Files.write(dir.resolve("latin1.jsonl"), bytes.toByteArray());
        assertThatThrownBy(() -> ClassificationJsonl.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + " line 3001: not valid UTF-8");
    }

    private void assertLineError(String badLine, int line, String message) throws IOException {
        Path file = write("bad.jsonl", "{\"text\": \"fine\", \"label\": \"ok\"}\n" + badLine + "\n");
        assertThatThrownBy(() -> ClassificationJsonl.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + " line " + line + ": ")
                .hasMessageContaining(message);
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static byte[] gzip(String content) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (var out = new GZIPOutputStream(bytes)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }
}
