package dev.cornerstone.configjson;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class CfgJsonTest {

    private static final String FILE = "deploy/app.cfg.json";

    private static Map<String, Object> parse(String json) throws Exception {
        return CfgJson.parse(FILE, new StringReader(json));
    }

    /** Parses {@code {"<key>": <value>}} and returns the one value. */
    private static Object value(String key, String jsonValue) throws Exception {
        Map<String, Object> properties = parse("{\"" + key + "\": " + jsonValue + "}");
        assertThat(properties).hasSize(1);
        return properties.values().iterator().next();
    }

    private static CfgJsonException failure(String json) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> parse(json));
        assertThat(thrown).isInstanceOf(CfgJsonException.class);
        CfgJsonException e = (CfgJsonException) thrown;
        assertThat(e.fileName()).isEqualTo(FILE);
        assertThat(e.getMessage()).startsWith(FILE);
        return e;
    }

    /** A failure about {@code key}: the message names the file, the key and a position. */
    private static CfgJsonException failureAt(String json, String key, int line, int column) {
        CfgJsonException e = failure(json);
        assertThat(e.key()).isEqualTo(key);
        assertThat(e.line()).isEqualTo(line);
        assertThat(e.column()).isEqualTo(column);
        assertThat(e.getMessage())
                .startsWith(FILE + " line " + line + ", column " + column + ": key \"" + key + "\": ");
        return e;
    }

    @Nested
    class Untyped {

        @Test
        void scalarsFollowTheConfiguratorDefaults() throws Exception {
            Map<String, Object> properties = parse("""
                    {
                      "name": "node-1",
                      "port": 8080,
                      "negative": -3,
                      "ratio": 0.75,
                      "exponent": 1e3,
                      "enabled": true,
                      "disabled": false,
                      "big": 9223372036854775807
                    }
                    """);

            assertThat(properties).containsExactly(
                    entry("name", "node-1"),
                    entry("port", 8080L),
                    entry("negative", -3L),
                    entry("ratio", 0.75d),
                    entry("exponent", 1000.0d),
                    entry("enabled", true),
                    entry("disabled", false),
                    entry("big", Long.MAX_VALUE));
            assertThat(properties.get("port")).isInstanceOf(Long.class);
            assertThat(properties.get("exponent")).isInstanceOf(Double.class);
        }

        @Test
        void arraysOfOneKindBecomeTypedArrays() throws Exception {
            assertThat(value("s", "[\"a\", \"b\"]")).isEqualTo(new String[]{"a", "b"});
            assertThat(value("l", "[1, -2, 3]")).isEqualTo(new Long[]{1L, -2L, 3L});
            assertThat(value("d", "[1.5, 2.5]")).isEqualTo(new Double[]{1.5, 2.5});
            assertThat(value("b", "[true, false]")).isEqualTo(new Boolean[]{true, false});
        }

        @Test
        void integralAndOtherNumbersTogetherMakeADoubleArray() throws Exception {
            assertThat(value("d", "[1, 2.5, 3]")).isEqualTo(new Double[]{1.0, 2.5, 3.0});
        }

        @Test
        void anEmptyArrayIsAnEmptyStringArray() throws Exception {
            assertThat(value("empty", "[]")).isEqualTo(new String[0]);
        }

        @Test
        void anEmptyObjectHasNoProperties() throws Exception {
            assertThat(parse("{}")).isEmpty();
        }
    }

    @Nested
    class TypeSuffixes {

        @ParameterizedTest(name = "{0}: {1}")
        @CsvSource(delimiter = '|', textBlock = """
                String    | "text"   | text            | java.lang.String
                Integer   | 8080     | 8080            | java.lang.Integer
                int       | -1       | -1              | java.lang.Integer
                Long      | 5        | 5               | java.lang.Long
                long      | 5        | 5               | java.lang.Long
                Float     | 1.5      | 1.5             | java.lang.Float
                float     | 2        | 2.0             | java.lang.Float
                Double    | 2.25     | 2.25            | java.lang.Double
                double    | 7        | 7.0             | java.lang.Double
                Boolean   | true     | true            | java.lang.Boolean
                boolean   | false    | false           | java.lang.Boolean
                Short     | -32768   | -32768          | java.lang.Short
                short     | 32767    | 32767           | java.lang.Short
                Byte      | 127      | 127             | java.lang.Byte
                byte      | -128     | -128            | java.lang.Byte
                Character | "x"      | x               | java.lang.Character
                char      | "é"      | é               | java.lang.Character
                """)
        void scalarSuffixes(String type, String json, String expected, Class<?> javaType) throws Exception {
            Object value = value("key:" + type, json);

            assertThat(value).isInstanceOf(javaType);
            assertThat(value.toString()).isEqualTo(expected);
        }

        @Test
        void theSuffixIsNotPartOfThePropertyName() throws Exception {
            assertThat(parse("{\"port:Integer\": 80}")).containsExactly(entry("port", 80));
        }

        @Test
        void onlyTheLastColonStartsTheSuffix() throws Exception {
            assertThat(parse("{\"urn:x:port:Integer\": 80}")).containsExactly(entry("urn:x:port", 80));
        }

        @Test
        void boxedArraySuffixes() throws Exception {
            assertThat(value("a:String[]", "[\"x\", \"y\"]")).isEqualTo(new String[]{"x", "y"});
            assertThat(value("a:Integer[]", "[1, 2]")).isEqualTo(new Integer[]{1, 2});
            assertThat(value("a:Long[]", "[1, 2]")).isEqualTo(new Long[]{1L, 2L});
            assertThat(value("a:Float[]", "[1, 2.5]")).isEqualTo(new Float[]{1f, 2.5f});
            assertThat(value("a:Double[]", "[1, 2.5]")).isEqualTo(new Double[]{1d, 2.5d});
            assertThat(value("a:Boolean[]", "[true]")).isEqualTo(new Boolean[]{true});
            assertThat(value("a:Short[]", "[3]")).isEqualTo(new Short[]{3});
            assertThat(value("a:Byte[]", "[4]")).isEqualTo(new Byte[]{4});
            assertThat(value("a:Character[]", "[\"a\", \"b\"]")).isEqualTo(new Character[]{'a', 'b'});
            assertThat(value("a:Integer[]", "[]")).isEqualTo(new Integer[0]);
        }

        @Test
        void primitiveArraySuffixes() throws Exception {
            assertThat(value("a:int[]", "[1, 2]")).isEqualTo(new int[]{1, 2});
            assertThat(value("a:long[]", "[1]")).isEqualTo(new long[]{1L});
            assertThat(value("a:float[]", "[0.5]")).isEqualTo(new float[]{0.5f});
            assertThat(value("a:double[]", "[0.5]")).isEqualTo(new double[]{0.5});
            assertThat(value("a:boolean[]", "[false, true]")).isEqualTo(new boolean[]{false, true});
            assertThat(value("a:short[]", "[1]")).isEqualTo(new short[]{1});
            assertThat(value("a:byte[]", "[1]")).isEqualTo(new byte[]{1});
            assertThat(value("a:char[]", "[\"z\"]")).isEqualTo(new char[]{'z'});
        }

        @Test
        void collectionSuffixesGiveLists() throws Exception {
            assertThat(value("c:Collection<Integer>", "[1, 2]")).isEqualTo(List.of(1, 2));
            assertThat(value("c:Collection<String>", "[\"a\"]")).isEqualTo(List.of("a"));
            assertThat(value("c:Collection<Double>", "[1, 0.5]")).isEqualTo(List.of(1.0, 0.5));
            assertThat(value("c:Collection<Boolean>", "[true]")).isEqualTo(List.of(true));
            assertThat(value("c:Collection<Character>", "[\"q\"]")).isEqualTo(List.of('q'));
            assertThat(value("c:Collection<Integer>", "[]")).isEqualTo(List.of());
        }

        @Test
        void aPlainCollectionInfersItsElementType() throws Exception {
            assertThat(value("c:Collection", "[1, 2]")).isEqualTo(List.of(1L, 2L));
            assertThat(value("c:Collection", "[1, 2.5]")).isEqualTo(List.of(1.0, 2.5));
            assertThat(value("c:Collection", "[\"a\"]")).isEqualTo(List.of("a"));
            assertThat(value("c:Collection", "[]")).isEqualTo(List.of());
        }
    }

    @Nested
    class Text {

        @Test
        void commentsAreAllowed() throws Exception {
            assertThat(parse("""
                    // the web server
                    {
                      /* where it listens */
                      "port:Integer": 80 // HTTP
                    }
                    """)).containsExactly(entry("port", 80));
        }

        @Test
        void aByteOrderMarkIsSkipped() throws Exception {
            assertThat(parse("\uFEFF{\"a\": 1}")).containsExactly(entry("a", 1L));
        }

        @Test
        void escapesAndNonAsciiTextAreDecoded() throws Exception {
            assertThat(value("s", "\"tab\\there \\u00e9 ü 日本\"")).isEqualTo("tab\there é ü 日本");
        }

        @Test
        void thePropertiesKeepTheFileOrderAndCannotBeChanged() throws Exception {
            Map<String, Object> properties = parse("{\"z\": 1, \"a\": 2, \"m\": 3}");

            assertThat(properties.keySet()).containsExactly("z", "a", "m");
            assertThatThrownBy(() -> properties.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void aFileIsReadAsUtf8AndNamedByItsPath(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("app.cfg.json");
            Files.writeString(file, "{\"greeting\": \"grüß dich\", \"n:Short\": 7}", StandardCharsets.UTF_8);

            assertThat(CfgJson.parse(file)).containsExactly(entry("greeting", "grüß dich"), entry("n", (short) 7));
        }

        @Test
        void invalidUtf8InAFileIsAnErrorNamingTheFile(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("bad.cfg.json");
            Files.write(file, new byte[]{'{', '"', 'a', '"', ':', ' ', '"', (byte) 0xFF, '"', '}'});

            assertThatThrownBy(() -> CfgJson.parse(file))
                    .isInstanceOf(CfgJsonException.class)
                    .hasMessageStartingWith(file + " line 1, column ")
                    .hasMessageContaining("key \"a\"")
                    .hasMessageContaining("UTF-8");
        }

        @Test
        void aMissingFileIsAnIoError(@TempDir Path dir) {
            assertThatThrownBy(() -> CfgJson.parse(dir.resolve("missing.cfg.json"))).isInstanceOf(IOException.class);
        }
    }

    @Nested
    class Errors {

        @Test
        void theMessageNamesFileLineColumnAndKey() {
            CfgJsonException e = failure("""
                    {
                      "host": "localhost",
                      "port:Integer": 80.5
                    }
                    """);

            assertThat(e).hasMessage("deploy/app.cfg.json line 3, column 19: key \"port:Integer\": 80.5 is not an Integer");
            assertThat(e.detail()).isEqualTo("80.5 is not an Integer");
        }

        @Test
        void badJsonIsReportedWithTheParsersPosition() {
            CfgJsonException e = failureAt("""
                    {
                      "a": 1,
                      "b": }
                    """, "b", 3, 8);

            assertThat(e.detail()).startsWith("invalid JSON: ");
            assertThat(e.getCause()).isNotNull();
        }

        @Test
        void aMissingCommaNamesTheKeyBeforeIt() {
            CfgJsonException e = failureAt("{\"a\": 1 \"b\": 2}", "a", 1, 9);

            assertThat(e.detail()).startsWith("invalid JSON: ").contains("comma");
        }

        @Test
        void aTrailingCommaIsInvalid() {
            failureAt("{\"a\": 1,}", "a", 1, 9);
        }

        @Test
        void aTruncatedFileIsInvalid() {
            CfgJsonException e = failure("{\"a\": [1, 2");

            assertThat(e.key()).isEqualTo("a");
            assertThat(e.getMessage()).contains("key \"a\"").contains("end-of-input");
        }

        @Test
        void nullIsRejected() {
            assertThat(failureAt("{\"a\": null}", "a", 1, 7).detail())
                    .isEqualTo("null is not allowed; leave the key out instead");
            assertThat(failureAt("{\"a:Integer\": null}", "a:Integer", 1, 15).detail())
                    .isEqualTo("null is not allowed; leave the key out instead");
            assertThat(failureAt("{\"a:String[]\": null}", "a:String[]", 1, 16).detail())
                    .isEqualTo("null is not allowed; leave the key out instead");
        }

        @Test
        void nullInAnArrayIsRejectedWithItsIndex() {
            assertThat(failureAt("{\"a\": [\"x\", null]}", "a", 1, 13).detail())
                    .isEqualTo("element 1: null is not allowed; leave the key out instead");
            assertThat(failureAt("{\"a:Integer[]\": [1, null]}", "a:Integer[]", 1, 21).detail())
                    .isEqualTo("element 1: null is not allowed; leave the key out instead");
        }

        @Test
        void nestedObjectsAreRejected() {
            assertThat(failureAt("{\n  \"db\": {\"url\": \"x\"}\n}", "db", 2, 9).detail())
                    .isEqualTo("nested objects are not supported");
            assertThat(failureAt("{\"db:String\": {}}", "db:String", 1, 15).detail())
                    .isEqualTo("nested objects are not supported");
            assertThat(failureAt("{\"dbs\": [{}]}", "dbs", 1, 10).detail())
                    .isEqualTo("element 0: nested objects are not supported");
        }

        @Test
        void nestedArraysAreRejected() {
            assertThat(failureAt("{\"m\": [[1]]}", "m", 1, 8).detail())
                    .isEqualTo("element 0: nested arrays are not supported");
            assertThat(failureAt("{\"m:Integer[]\": [1, [2]]}", "m:Integer[]", 1, 21).detail())
                    .isEqualTo("element 1: nested arrays are not supported");
        }

        @Test
        void mixedArraysAreRejected() {
            assertThat(failureAt("{\"a\": [1, \"two\"]}", "a", 1, 11).detail())
                    .isEqualTo("mixed array: element 1 is a string but element 0 is a number; all elements must have one type");
            assertThat(failureAt("{\"a\": [true, 2.5]}", "a", 1, 14).detail())
                    .startsWith("mixed array: element 1 is a number but element 0 is a boolean");
            assertThat(failureAt("{\"a:Collection\": [\"x\", false]}", "a:Collection", 1, 24).detail())
                    .startsWith("mixed array: element 1 is a boolean but element 0 is a string");
        }

        @ParameterizedTest(name = "{0}: {1}")
        @CsvSource(delimiter = '|', textBlock = """
                Integer   | 80.5       | 80.5 is not an Integer
                Integer   | "80"       | "80" is not an Integer
                int       | true       | true is not an int
                Long      | 1e3        | 1e3 is not a Long
                Short     | 1.0        | 1.0 is not a Short
                Byte      | "1"        | "1" is not a Byte
                String    | 42         | 42 is not a String
                Boolean   | "true"     | "true" is not a Boolean
                Boolean   | 1          | 1 is not a Boolean
                Float     | "1.5"      | "1.5" is not a Float
                Double    | false      | false is not a Double
                Character | 65         | 65 is not a Character
                Character | "ab"       | "ab" is not a Character: it must be exactly one character
                Character | ""         | "" is not a Character: it must be exactly one character
                """)
        void aValueOfTheWrongTypeForItsSuffixIsRejected(String type, String json, String detail) {
            String key = "k:" + type;
            assertThat(failureAt("{\"" + key + "\": " + json + "}", key, 1, key.length() + 6).detail())
                    .isEqualTo(detail);
        }

        @ParameterizedTest(name = "{0}: {1}")
        @CsvSource(delimiter = '|', textBlock = """
                Byte    | 128                   | 128 is out of range for a Byte (-128 to 127)
                byte    | -129                  | -129 is out of range for a byte (-128 to 127)
                Short   | 32768                 | 32768 is out of range for a Short (-32768 to 32767)
                Integer | 2147483648            | 2147483648 is out of range for an Integer (-2147483648 to 2147483647)
                Long    | 9223372036854775808   | 9223372036854775808 is out of range for a Long (-9223372036854775808 to 9223372036854775807)
                Float   | 1e39                  | 1e39 is out of range for a Float
                Double  | 1e400                 | 1e400 is out of range for a Double
                """)
        void aNumberOutsideItsTypesRangeIsRejected(String type, String json, String detail) {
            String key = "k:" + type;
            assertThat(failureAt("{\"" + key + "\": " + json + "}", key, 1, key.length() + 6).detail())
                    .isEqualTo(detail);
        }

        @Test
        void anUntypedIntegerBeyondLongIsRejected() {
            assertThat(failureAt("{\"n\": 99999999999999999999}", "n", 1, 7).detail())
                    .isEqualTo("99999999999999999999 is out of range for a Long; give the key a :Double or :String suffix");
        }

        @Test
        void anArrayElementOfTheWrongTypeIsRejectedWithItsIndex() {
            assertThat(failureAt("{\"ports:Integer[]\": [80, \"443\"]}", "ports:Integer[]", 1, 26).detail())
                    .isEqualTo("element 1: \"443\" is not an Integer");
            assertThat(failureAt("{\"ports:int[]\": [80, 4.5]}", "ports:int[]", 1, 22).detail())
                    .isEqualTo("element 1: 4.5 is not an int");
            assertThat(failureAt("{\"c:Collection<Long>\": [true]}", "c:Collection<Long>", 1, 25).detail())
                    .isEqualTo("element 0: true is not a Long");
        }

        @Test
        void theShapeMustMatchTheSuffix() {
            assertThat(failureAt("{\"p:Integer[]\": 80}", "p:Integer[]", 1, 17).detail())
                    .isEqualTo("expected a JSON array for type Integer[] but found 80");
            assertThat(failureAt("{\"p:Collection<String>\": \"x\"}", "p:Collection<String>", 1, 26).detail())
                    .isEqualTo("expected a JSON array for type Collection<String> but found \"x\"");
            assertThat(failureAt("{\"p:Integer\": [80]}", "p:Integer", 1, 15).detail())
                    .isEqualTo("expected a single Integer but found an array");
        }

        @ParameterizedTest
        @ValueSource(strings = {"Int", "integer", "Integer[][]", "Collection<int>", "Collection<Foo>", "List", "", "Map"})
        void anUnknownTypeSuffixIsRejected(String type) {
            String key = "p:" + type;
            assertThat(failureAt("{\"" + key + "\": 1}", key, 1, 2).detail())
                    .startsWith("unknown type \"" + type + "\" after the colon; known types are String, Integer, ");
        }

        @Test
        void aKeyMustNameAProperty() {
            assertThat(failureAt("{\"\": 1}", "", 1, 2).detail()).isEqualTo("empty key");
            assertThat(failureAt("{\":Integer\": 1}", ":Integer", 1, 2).detail())
                    .isEqualTo("no property name before the type suffix \":Integer\"");
        }

        @Test
        void duplicateKeysAreRejected() {
            assertThat(failureAt("{\"a\": 1,\n\"a\": 2}", "a", 2, 1).detail()).isEqualTo("duplicate key");
        }

        @Test
        void keysNamingTheSamePropertyInAnyCaseAreRejected() {
            assertThat(failureAt("{\"Port\": 1, \"port:Integer\": 2}", "port:Integer", 1, 13).detail())
                    .isEqualTo("sets property \"port\" again, already set by key \"Port\" (property names ignore case)");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "   \n\t ", "// nothing here\n/* at all */"})
        void anEmptyFileIsRejected(String content) {
            CfgJsonException e = failure(content);

            assertThat(e.key()).isNull();
            assertThat(e).hasMessage(FILE + ": the file is empty; it must hold one JSON object of properties");
        }

        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', textBlock = """
                [1, 2]  | an array
                "text"  | "text"
                42      | 42
                true    | true
                null    | null
                """)
        void theTopLevelMustBeAnObject(String json, String shown) {
            CfgJsonException e = failure(json);

            assertThat(e.key()).isNull();
            assertThat(e).hasMessage(FILE + " line 1, column 1: the top level must be a JSON object of properties, not " + shown);
        }

        @Test
        void contentAfterTheObjectIsRejected() {
            CfgJsonException e = failure("{\"a\": 1}\n{\"b\": 2}");

            assertThat(e.key()).isNull();
            assertThat(e).hasMessage(FILE + " line 2, column 1: found an object after the closing } of the properties object; a file holds one object");
        }

        @Test
        void garbageAfterTheObjectIsInvalidJson() {
            CfgJsonException e = failure("{\"a\": 1} oops");

            assertThat(e.key()).isNull();
            assertThat(e.getMessage()).startsWith(FILE + " line 1, column ").contains("invalid JSON");
        }

        @Test
        void longStringsAreCutInMessages() {
            String longText = "x".repeat(200);
            String detail = failureAt("{\"n:Integer\": \"" + longText + "\"}", "n:Integer", 1, 15).detail();

            assertThat(detail).isEqualTo("\"" + "x".repeat(57) + "...\" is not an Integer");
        }
    }
}
