package dev.cornerstone.configjson;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The type a key's suffix asks for, as in {@code "port:Integer"} or {@code "hosts:Collection<String>"}.
 *
 * <p>The spellings follow the OSGi Configurator / Apache Felix {@code .cfg.json} convention so that
 * files written for those tools keep their meaning here: the boxed names ({@code Integer}), the
 * primitive names ({@code int}, which Configuration Admin stores boxed anyway), arrays of either
 * ({@code Integer[]} gives an {@code Integer[]}, {@code int[]} an {@code int[]}), and
 * {@code Collection<Integer>} or plain {@code Collection}, which give a {@link java.util.List}.
 *
 * @param element   the type of the value or of each element; {@code null} only for a plain
 *                  {@code Collection}, whose element type is inferred like an untyped array's
 * @param shape     a single value, an array or a collection
 * @param primitive whether the suffix used a primitive name; only changes the Java type of arrays
 * @param spelling  the suffix exactly as written, for messages
 */
record PropertyType(Scalar element, Shape shape, boolean primitive, String spelling) {

    /** Whether the value is one scalar, a Java array, or a {@link java.util.List}. */
    enum Shape { SINGLE, ARRAY, COLLECTION }

    /** The scalar types Configuration Admin accepts as property values. */
    enum Scalar {
        STRING("String", null, String.class, null, null, null),
        INTEGER("Integer", "int", Integer.class, int.class, (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE),
        LONG("Long", "long", Long.class, long.class, Long.MIN_VALUE, Long.MAX_VALUE),
        FLOAT("Float", "float", Float.class, float.class, null, null),
        DOUBLE("Double", "double", Double.class, double.class, null, null),
        BOOLEAN("Boolean", "boolean", Boolean.class, boolean.class, null, null),
        SHORT("Short", "short", Short.class, short.class, (long) Short.MIN_VALUE, (long) Short.MAX_VALUE),
        BYTE("Byte", "byte", Byte.class, byte.class, (long) Byte.MIN_VALUE, (long) Byte.MAX_VALUE),
        CHARACTER("Character", "char", Character.class, char.class, null, null);

        final String boxedName;
        final String primitiveName;
        final Class<?> boxedClass;
        final Class<?> primitiveClass;
        /** Inclusive bounds of the integral types; {@code null} for the others. */
        final BigInteger min;
        final BigInteger max;

        Scalar(String boxedName, String primitiveName, Class<?> boxedClass, Class<?> primitiveClass,
               Long min, Long max) {
            this.boxedName = boxedName;
            this.primitiveName = primitiveName;
            this.boxedClass = boxedClass;
            this.primitiveClass = primitiveClass;
            this.min = min == null ? null : BigInteger.valueOf(min);
            this.max = max == null ? null : BigInteger.valueOf(max);
        }

        boolean integral() {
            return min != null;
        }

        /** Boxes an in-range integral value into this type. */
        Object ofIntegral(BigInteger value) {
            return switch (this) {
                case INTEGER -> value.intValue();
                case LONG -> value.longValue();
                case SHORT -> value.shortValue();
                case BYTE -> value.byteValue();
                default -> throw new IllegalStateException(this + " is not integral");
            };
        }

        static Optional<Scalar> named(String name) {
            return Arrays.stream(values())
                    .filter(s -> s.boxedName.equals(name))
                    .findFirst();
        }

        static Optional<Scalar> primitiveNamed(String name) {
            return Arrays.stream(values())
                    .filter(s -> name.equals(s.primitiveName))
                    .findFirst();
        }
    }

    private static final String COLLECTION = "Collection";

    /** The suffixes one may write, for the message about an unknown one. */
    static final String KNOWN = Arrays.stream(Scalar.values())
            .map(s -> s.boxedName)
            .collect(Collectors.joining(", "))
            + " (or int, long, float, double, boolean, short, byte, char), any of them followed by [],"
            + " Collection<T> with T one of the boxed names, or Collection";

    /** The name used for one value or element in messages: the spelling the user chose. */
    String elementSpelling() {
        return switch (shape) {
            case SINGLE -> spelling;
            case ARRAY -> spelling.substring(0, spelling.length() - 2);
            case COLLECTION -> element == null ? "element" : element.boxedName;
        };
    }

    /**
     * Reads a suffix; empty when it is not one of the {@link #KNOWN} forms. Spaces are not
     * accepted anywhere, as in the formats this one follows.
     */
    static Optional<PropertyType> parse(String suffix) {
        if (suffix.equals(COLLECTION)) {
            return Optional.of(new PropertyType(null, Shape.COLLECTION, false, suffix));
        }
        if (suffix.startsWith(COLLECTION + "<") && suffix.endsWith(">")) {
            String inner = suffix.substring(COLLECTION.length() + 1, suffix.length() - 1);
            return Scalar.named(inner).map(s -> new PropertyType(s, Shape.COLLECTION, false, suffix));
        }
        boolean array = suffix.endsWith("[]");
        Shape shape = array ? Shape.ARRAY : Shape.SINGLE;
        String name = array ? suffix.substring(0, suffix.length() - 2) : suffix;
        return Scalar.named(name)
                .map(s -> new PropertyType(s, shape, false, suffix))
                .or(() -> Scalar.primitiveNamed(name).map(s -> new PropertyType(s, shape, true, suffix)));
    }
}
