package dev.cornerstone.data.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads a classification set from JSONL: one JSON object a line with the string fields
 * {@code text} and {@code label} and an optional string {@code id}; other fields (a mail's
 * {@code subject}, say) are ignored, blank lines skipped. The file may be gzip-compressed,
 * whatever its name: gzip is recognized by its magic bytes.
 *
 * <p>The file is read strictly, because a fine-tuning run on half-read data reports nothing wrong:
 * a line that is not one JSON object, is not UTF-8, repeats a field, lacks {@code text} or
 * {@code label}, or holds another kind of value in them is an {@link IllegalArgumentException}
 * whose message starts with the file and the 1-based line ({@code data/set.jsonl line 7: field
 * "label" ...}); a file without a record says so, and whether it has no line or only blank ones.
 * Lines are split on {@code \n} (a {@code \r} before it is dropped); JSON strings cannot hold a
 * raw line break, so a record never spans lines.
 *
 * <p>Texts to classify and unlabelled text are read with {@link Labels#OPTIONAL}: the same rules,
 * except that {@code label} may be missing (or null).
 *
 * <p>Jackson's streaming parser does the JSON; the bytes of each line are decoded here, so a
 * malformed UTF-8 sequence is reported at its own line.
 */
public final class ClassificationJsonl {

    public static final String TEXT = "text";
    public static final String LABEL = "label";
    public static final String ID = "id";

    private static final int GZIP_MAGIC_1 = 0x1f;
    private static final int GZIP_MAGIC_2 = 0x8b;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private ClassificationJsonl() {
    }

    /** Whether every line must have a {@code label}. */
    public enum Labels {
        /** A training set: a line without a label is an error. */
        REQUIRED,
        /** Texts to classify, or unlabelled text: a label may be there (then checked like any), or not. */
        OPTIONAL
    }

    /** {@link #read(Path, Labels)} with labels required. */
    public static List<ClassificationExample> read(Path file) throws IOException {
        return read(file, Labels.REQUIRED);
    }

    /**
     * @return the examples in file order, unmodifiable, never empty
     * @throws IllegalArgumentException when the content is not a classification set; the message
     *                                  names the file, the line and the field
     * @throws IOException              when the file cannot be read (missing, truncated gzip);
     *                                  the message names the file
     */
    public static List<ClassificationExample> read(Path file, Labels labels) throws IOException {
        var examples = new ArrayList<ClassificationExample>();
        int lineNumber = 0;
        try (InputStream in = open(file)) {
            var lines = new LineReader(in);
            while (true) {
                byte[] bytes;
                try {
                    bytes = lines.next();
                } catch (IOException e) {
                    throw new IOException(file + " line " + (lineNumber + 1) + ": " + e.getMessage(), e);
                }
                if (bytes == null) {
                    break;
                }
                lineNumber++;
                String line = decode(file, lineNumber, bytes);
                if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (!line.isBlank()) {
                    examples.add(parse(file, lineNumber, line, labels));
                }
            }
        }
        if (examples.isEmpty()) {
            String where = switch (lineNumber) {
                case 0 -> "the file has no lines";
                case 1 -> "line 1 is blank";
                default -> "lines 1 to " + lineNumber + " are blank";
            };
            throw new IllegalArgumentException(file + ": no records (" + where + "); a classification set needs at "
                    + "least one line {\"" + TEXT + "\": ..., \"" + LABEL + "\": ...}");
        }
        return Collections.unmodifiableList(examples);
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in;
        try {
            in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (IOException e) {
            throw new IOException(file + ": cannot open: " + e, e);
        }
        try {
            in.mark(2);
            boolean gzip = in.read() == GZIP_MAGIC_1 && in.read() == GZIP_MAGIC_2;
            in.reset();
            return gzip ? new GZIPInputStream(in, 1 << 16) : in;
        } catch (IOException e) {
            in.close();
            throw new IOException(file + ": cannot read: " + e, e);
        }
    }

    private static String decode(Path file, int lineNumber, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw error(file, lineNumber, "not valid UTF-8 (" + e + ")");
        }
    }

    private static ClassificationExample parse(Path file, int lineNumber, String line, Labels labels) {
        String id = null;
        String text = null;
        String label = null;
        try (JsonParser parser = JSON.createParser(line)) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw error(file, lineNumber, "expected a JSON object {\"" + TEXT + "\": ..., \"" + LABEL + "\": ...}, got "
                        + kind(first));
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case TEXT -> text = string(file, lineNumber, parser, field, value);
                    case LABEL -> label = labels == Labels.OPTIONAL && value == JsonToken.VALUE_NULL ? null
                            : string(file, lineNumber, parser, field, value);
                    case ID -> id = value == JsonToken.VALUE_NULL ? null : string(file, lineNumber, parser, field, value);
                    default -> parser.skipChildren();
                }
            }
            JsonToken after = parser.nextToken();
            if (after != null) {
                throw error(file, lineNumber, "more after the JSON object: " + kind(after) + " at column "
                        + parser.currentLocation().getColumnNr() + "; one object a line");
            }
        } catch (JsonProcessingException e) {
            throw error(file, lineNumber, "not valid JSON: " + e.getOriginalMessage()
                    + " (column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            // A parser over a String does no I/O; anything else it reports is malformed input.
            throw error(file, lineNumber, "not valid JSON: " + e.getMessage());
        }
        if (text == null) {
            throw error(file, lineNumber, "field \"" + TEXT + "\" is missing");
        }
        if (label == null && labels == Labels.REQUIRED) {
            throw error(file, lineNumber, "field \"" + LABEL + "\" is missing");
        }
        if (label != null && label.isBlank()) {
            throw error(file, lineNumber, "field \"" + LABEL + "\" is blank; a label names a class");
        }
        return new ClassificationExample(lineNumber, id, text, label);
    }

    private static String string(Path file, int lineNumber, JsonParser parser, String field, JsonToken value)
            throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            String shown = switch (value) {
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> " (" + parser.getText() + ")";
                default -> "";
            };
            throw error(file, lineNumber, "field \"" + field + "\" must be a string, got " + kind(value) + shown);
        }
        return parser.getText();
    }

    private static String kind(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.asString() != null ? token.asString() : token.name();
        };
    }

    private static IllegalArgumentException error(Path file, int lineNumber, String what) {
        return new IllegalArgumentException(file + " line " + lineNumber + ": " + what);
    }

    /** Splits a byte stream on {@code \n}, dropping a {@code \r} before it; no decoding. */
    private static final class LineReader {

        private final InputStream in;
        private final byte[] buffer = new byte[1 << 16];
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(8192);
        private int position;
        private int limit;

        LineReader(InputStream in) {
            this.in = in;
        }

        /** The next line's bytes without its end, or {@code null} at the end of the stream. */
        byte[] next() throws IOException {
            line.reset();
            boolean any = false;
            while (true) {
                if (position == limit) {
                    limit = in.read(buffer);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        return any ? finish() : null;
                    }
                }
                any = true;
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                line.write(buffer, start, position - start);
                if (position < limit) {
                    position++;
                    return finish();
                }
            }
        }

        private byte[] finish() {
            byte[] bytes = line.toByteArray();
            int length = bytes.length;
            if (length > 0 && bytes[length - 1] == '\r') {
                return Arrays.copyOf(bytes, length - 1);
            }
            return bytes;
        }
    }
}
