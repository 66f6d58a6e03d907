package dev.cornerstone.configjson;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.cornerstone.configjson.PropertyType.Scalar;
import dev.cornerstone.configjson.PropertyType.Shape;

import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackReader;
import java.io.Reader;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@code .cfg.json} file into the properties of one configuration.
 *
 * <p>The format is the one of the OSGi Configurator and Apache Felix for a single configuration:
 * one JSON object whose members are the properties. Without a type suffix a string becomes a
 * {@link String}, an integral number a {@link Long}, any other number a {@link Double}, a boolean a
 * {@link Boolean}, and an array of one of those kinds a {@code String[]}, {@code Long[]},
 * {@code Double[]} or {@code Boolean[]} (an array that mixes integral and other numbers is a
 * {@code Double[]}; an empty one a {@code String[]}). A key may name the type after a colon,
 * {@code "port:Integer": 8080}; see {@link PropertyType} for the spellings. JavaScript comments
 * ({@code //} and {@code /* *}{@code /}) are allowed, as in the Configurator format.
 *
 * <p>Configuration Admin cannot hold {@code null}, nested dictionaries or mixed arrays, and it
 * treats property names without regard to case; this class rejects such files outright, with a
 * {@link CfgJsonException} that names the file, the key and the position, instead of letting a
 * half-converted configuration reach the components.
 *
 * <p>It uses Jackson's streaming parser only, so that the positions in messages are the ones of
 * the tokens in error, and it has no OSGi dependency so that it can be tested as plain Java.
 */
public final class CfgJson {

    /** The end of the file names this format is read from. */
    public static final String FILE_SUFFIX = ".cfg.json";

    /** Longest string shown verbatim in an error message; longer ones are cut. */
    private static final int SHOWN_STRING_MAX = 60;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            // Callers own their Reader; parse(Path) closes its own stream.
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();

    private CfgJson() {
    }

    /**
     * Reads a file. Jackson detects the encoding (UTF-8 unless a byte order mark or the byte
     * pattern says UTF-16 or UTF-32), so a broken UTF-8 sequence is reported with its position.
     *
     * @return the properties in file order, unmodifiable
     * @throws CfgJsonException when the content is not a valid configuration; the message names
     *                          {@code file} as given
     * @throws IOException      when the file cannot be read
     */
    public static Map<String, Object> parse(Path file) throws IOException, CfgJsonException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(file.toString(), () -> JSON.createParser(in));
        }
    }

    /**
     * Reads already decoded text. The reader is not closed. A leading byte order mark is skipped.
     *
     * @param fileName the name used in error messages
     * @return the properties in file order, unmodifiable
     * @throws CfgJsonException when the content is not a valid configuration
     * @throws IOException      when the reader fails
     */
    public static Map<String, Object> parse(String fileName, Reader reader) throws IOException, CfgJsonException {
        return read(fileName, () -> {
            var pushback = new PushbackReader(reader, 1);
            int first = pushback.read();
            if (first >= 0 && first != '\uFEFF') {
                pushback.unread(first);
            }
            return JSON.createParser(pushback);
        });
    }

    @FunctionalInterface
    private interface ParserSource {
        JsonParser open() throws IOException;
    }

    private static Map<String, Object> read(String fileName, ParserSource source) throws IOException, CfgJsonException {
        var reading = new Reading(fileName);
        try (JsonParser parser = source.open()) {
            return reading.read(parser);
        } catch (JsonProcessingException e) {
            throw reading.syntaxError(e);
        } catch (CharacterCodingException | CharConversionException e) {
            throw reading.encodingError(e);
        }
    }

    /** The kinds an untyped array may hold; all its elements must be of one. */
    private enum Kind {
        STRING("a string"), INTEGRAL("a number"), DECIMAL("a number"), BOOLEAN("a boolean");

        final String shown;

        Kind(String shown) {
            this.shown = shown;
        }

        boolean number() {
            return this == INTEGRAL || this == DECIMAL;
        }
    }

    /** A key split into the property name and its optional type ({@code null} when untyped). */
    private record Property(String name, PropertyType type) {
    }

    /** The state of one parse: kept so that every error can name the key being read. */
    private static final class Reading {
        private final String fileName;
        private JsonParser parser;
        /** The key being read, as written; {@code null} outside of a member. */
        private String key;

        Reading(String fileName) {
            this.fileName = fileName;
        }

        Map<String, Object> read(JsonParser parser) throws IOException, CfgJsonException {
            this.parser = parser;
            JsonToken token = parser.nextToken();
            if (token == null) {
                throw new CfgJsonException(fileName, null, 0, 0,
                        "the file is empty; it must hold one JSON object of properties", null);
            }
            if (token != JsonToken.START_OBJECT) {
                throw errorAtToken("the top level must be a JSON object of properties, not " + shown(token));
            }
            var properties = new LinkedHashMap<String, Object>();
            // Configuration Admin ignores the case of property names: "Port" and "port" collide.
            var keyOfName = new HashMap<String, String>();
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                key = parser.currentName();
                Property property = property(key);
                String earlier = keyOfName.putIfAbsent(property.name().toLowerCase(Locale.ROOT), key);
                if (earlier != null) {
                    throw errorAtToken(earlier.equals(key)
                            ? "duplicate key"
                            : "sets property \"" + property.name() + "\" again, already set by key \"" + earlier
                              + "\" (property names ignore case)");
                }
                parser.nextToken();
                properties.put(property.name(), property.type() == null ? untyped() : typed(property.type()));
            }
            // Inside an object Jackson only yields FIELD_NAME or END_OBJECT; anything else is a
            // syntax error it throws itself.
            key = null;
            token = parser.nextToken();
            if (token != null) {
                throw errorAtToken("found " + shown(token)
                                   + " after the closing } of the properties object; a file holds one object");
            }
            return Collections.unmodifiableMap(properties);
        }

        private Property property(String key) throws CfgJsonException {
            if (key.isEmpty()) {
                throw errorAtToken("empty key");
            }
            int colon = key.lastIndexOf(':');
            if (colon < 0) {
                return new Property(key, null);
            }
            String name = key.substring(0, colon);
            String suffix = key.substring(colon + 1);
            if (name.isEmpty()) {
                throw errorAtToken("no property name before the type suffix \":" + suffix + "\"");
            }
            PropertyType type = PropertyType.parse(suffix).orElseThrow(() -> errorAtToken(
                    "unknown type \"" + suffix + "\" after the colon; known types are " + PropertyType.KNOWN));
            return new Property(name, type);
        }

        /** The value of a key without suffix; the parser is on its first token. */
        private Object untyped() throws IOException, CfgJsonException {
            JsonToken token = parser.currentToken();
            if (token != JsonToken.START_ARRAY) {
                return untypedScalar(token, "");
            }
            List<Object> values = new ArrayList<>();
            Kind kind = inferredElements(values);
            if (kind == null) {
                return new String[0];
            }
            return switch (kind) {
                case STRING -> values.toArray(String[]::new);
                case INTEGRAL -> values.toArray(Long[]::new);
                case DECIMAL -> values.stream().map(v -> ((Number) v).doubleValue()).toArray(Double[]::new);
                case BOOLEAN -> values.toArray(Boolean[]::new);
            };
        }

        /**
         * Reads the elements of an untyped array or collection into {@code values} (integral numbers
         * as {@link Long}, others as {@link Double}, to be widened by the caller when they mix).
         *
         * @return the one kind all elements share, or {@code null} for an empty array
         */
        private Kind inferredElements(List<Object> values) throws IOException, CfgJsonException {
            Kind kind = null;
            JsonToken token;
            for (int index = 0; (token = parser.nextToken()) != JsonToken.END_ARRAY; index++) {
                String where = "element " + index + ": ";
                Kind elementKind = switch (token) {
                    case VALUE_STRING -> Kind.STRING;
                    case VALUE_NUMBER_INT -> Kind.INTEGRAL;
                    case VALUE_NUMBER_FLOAT -> Kind.DECIMAL;
                    case VALUE_TRUE, VALUE_FALSE -> Kind.BOOLEAN;
                    default -> throw notScalar(token, where);
                };
                if (kind == null) {
                    kind = elementKind;
                } else if (kind.number() && elementKind.number()) {
                    kind = kind == Kind.DECIMAL || elementKind == Kind.DECIMAL ? Kind.DECIMAL : Kind.INTEGRAL;
                } else if (kind != elementKind) {
                    throw errorAtToken("mixed array: element " + index + " is " + elementKind.shown
                                       + " but element 0 is " + kind.shown
                                       + "; all elements must have one type");
                }
                values.add(untypedScalar(token, where));
            }
            return kind;
        }

        private Object untypedScalar(JsonToken token, String where) throws IOException, CfgJsonException {
            return switch (token) {
                case VALUE_STRING -> parser.getText();
                case VALUE_TRUE -> Boolean.TRUE;
                case VALUE_FALSE -> Boolean.FALSE;
                case VALUE_NUMBER_INT -> {
                    if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        throw errorAtToken(where + parser.getText() + " is out of range for a Long"
                                           + "; give the key a :Double or :String suffix");
                    }
                    yield parser.getLongValue();
                }
                case VALUE_NUMBER_FLOAT -> finite(parser.getDoubleValue(), "Double", where);
                default -> throw notScalar(token, where);
            };
        }

        /** The value of a key with a type suffix; the parser is on its first token. */
        private Object typed(PropertyType type) throws IOException, CfgJsonException {
            JsonToken token = parser.currentToken();
            if (type.shape() == Shape.SINGLE) {
                if (token == JsonToken.START_ARRAY) {
                    throw errorAtToken("expected a single " + type.spelling() + " but found an array");
                }
                return scalar(type.element(), type.spelling(), token, "");
            }
            if (token != JsonToken.START_ARRAY) {
                if (token == JsonToken.VALUE_NULL || token == JsonToken.START_OBJECT) {
                    throw notScalar(token, "");
                }
                throw errorAtToken("expected a JSON array for type " + type.spelling() + " but found " + shown(token));
            }
            List<Object> values = new ArrayList<>();
            if (type.element() == null) {
                if (inferredElements(values) == Kind.DECIMAL) {
                    values.replaceAll(v -> ((Number) v).doubleValue());
                }
                return List.copyOf(values);
            }
            JsonToken elementToken;
            for (int index = 0; (elementToken = parser.nextToken()) != JsonToken.END_ARRAY; index++) {
                values.add(scalar(type.element(), type.elementSpelling(), elementToken, "element " + index + ": "));
            }
            if (type.shape() == Shape.COLLECTION) {
                return List.copyOf(values);
            }
            Class<?> component = type.primitive() ? type.element().primitiveClass : type.element().boxedClass;
            Object array = Array.newInstance(component, values.size());
            for (int i = 0; i < values.size(); i++) {
                Array.set(array, i, values.get(i)); // unboxes for primitive arrays
            }
            return array;
        }

        /** Converts the current scalar token to {@code scalar}, named {@code spelling} in messages. */
        private Object scalar(Scalar scalar, String spelling, JsonToken token, String where)
                throws IOException, CfgJsonException {
            if (!token.isScalarValue() || token == JsonToken.VALUE_NULL) {
                throw notScalar(token, where);
            }
            boolean number = token.isNumeric();
            switch (scalar) {
                case STRING -> {
                    if (token == JsonToken.VALUE_STRING) {
                        return parser.getText();
                    }
                }
                case BOOLEAN -> {
                    if (token.isBoolean()) {
                        return token == JsonToken.VALUE_TRUE;
                    }
                }
                case CHARACTER -> {
                    if (token == JsonToken.VALUE_STRING) {
                        String text = parser.getText();
                        if (text.length() != 1) {
                            throw errorAtToken(where + shown(token) + " is not " + article(spelling) + " " + spelling
                                               + ": it must be exactly one character");
                        }
                        return text.charAt(0);
                    }
                }
                case FLOAT -> {
                    if (number) {
                        double value = finite(parser.getDoubleValue(), spelling, where);
                        float narrowed = (float) value;
                        if (Float.isInfinite(narrowed)) {
                            throw outOfRange(spelling, where);
                        }
                        return narrowed;
                    }
                }
                case DOUBLE -> {
                    if (number) {
                        return finite(parser.getDoubleValue(), spelling, where);
                    }
                }
                case INTEGER, LONG, SHORT, BYTE -> {
                    if (token == JsonToken.VALUE_NUMBER_INT) {
                        BigInteger value = parser.getBigIntegerValue();
                        if (value.compareTo(scalar.min) < 0 || value.compareTo(scalar.max) > 0) {
                            throw errorAtToken(where + parser.getText() + " is out of range for "
                                               + article(spelling) + " " + spelling
                                               + " (" + scalar.min + " to " + scalar.max + ")");
                        }
                        return scalar.ofIntegral(value);
                    }
                }
            }
            throw errorAtToken(where + shown(token) + " is not " + article(spelling) + " " + spelling);
        }

        private double finite(double value, String spelling, String where) throws IOException, CfgJsonException {
            if (Double.isInfinite(value)) {
                throw outOfRange(spelling, where);
            }
            return value;
        }

        private CfgJsonException outOfRange(String spelling, String where) throws IOException {
            return errorAtToken(where + parser.getText() + " is out of range for " + article(spelling) + " " + spelling);
        }

        /** The error for a value Configuration Admin cannot hold at all, whatever the type. */
        private CfgJsonException notScalar(JsonToken token, String where) throws IOException {
            return errorAtToken(where + switch (token) {
                case VALUE_NULL -> "null is not allowed; leave the key out instead";
                case START_OBJECT -> "nested objects are not supported";
                case START_ARRAY -> "nested arrays are not supported";
                default -> "unexpected " + shown(token);
            });
        }

        private CfgJsonException errorAtToken(String detail) {
            JsonLocation location = parser.currentTokenLocation();
            return new CfgJsonException(fileName, key, location.getLineNr(), location.getColumnNr(), detail, null);
        }

        CfgJsonException syntaxError(JsonProcessingException e) {
            JsonLocation location = e.getLocation();
            return new CfgJsonException(fileName, keyInParser(),
                    location == null ? 0 : location.getLineNr(),
                    location == null ? 0 : location.getColumnNr(),
                    "invalid JSON: " + e.getOriginalMessage(), e);
        }

        /**
         * The key Jackson was reading when it failed. It can be ahead of {@link #key}: Jackson reads
         * a member's name, colon and the start of its value in one step, so a broken value fails
         * before its name is handed out. The properties object is the child of the root context.
         */
        private String keyInParser() {
            if (parser == null) {
                return key;
            }
            JsonStreamContext context = parser.getParsingContext();
            while (context != null && context.getParent() != null && !context.getParent().inRoot()) {
                context = context.getParent();
            }
            return context != null && context.inObject() && context.getCurrentName() != null
                    ? context.getCurrentName()
                    : key;
        }

        CfgJsonException encodingError(IOException e) {
            JsonLocation location = parser == null ? null : parser.currentLocation();
            return new CfgJsonException(fileName, keyInParser(),
                    location == null ? 0 : location.getLineNr(),
                    location == null ? 0 : location.getColumnNr(),
                    "the text cannot be decoded (" + e.getMessage() + "); save the file as UTF-8", e);
        }

        /** A token as the user wrote it: the literal for scalars, a word for structures. */
        private String shown(JsonToken token) throws IOException {
            return switch (token) {
                case VALUE_STRING -> quoted(parser.getText());
                case START_OBJECT -> "an object";
                case START_ARRAY -> "an array";
                default -> parser.getText();
            };
        }
    }

    private static String article(String word) {
        return "AEIOUaeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }

    private static String quoted(String text) {
        String cut = text.length() > SHOWN_STRING_MAX ? text.substring(0, SHOWN_STRING_MAX - 3) + "..." : text;
        var quoted = new StringBuilder(cut.length() + 2).append('"');
        for (char c : cut.toCharArray()) {
            switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\r' -> quoted.append("\\r");
                case '\t' -> quoted.append("\\t");
                default -> {
                    if (c < 0x20) {
                        quoted.append(String.format("\\u%04x", (int) c));
                    } else {
                        quoted.append(c);
                    }
                }
            }
        }
        return quoted.append('"').toString();
    }
}
