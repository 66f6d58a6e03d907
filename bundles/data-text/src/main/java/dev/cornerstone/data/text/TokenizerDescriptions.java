package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Rebuilds a tokenizer from what its {@link Tokenizer#describe()} returned, when a run is resumed or
 * sampled. The description comes back from a run's records (JSON or YAML), so it is checked as
 * strictly as a configuration: a malformed one would silently give other ids than the model was
 * trained with.
 *
 * <ul>
 *   <li>{@code {"type":"byte"}}</li>
 *   <li>{@code {"type":"char","chars":"<vocabulary, sorted by code point>","unk":true}}; {@code unk}
 *       may be left out (it is always true in this version)</li>
 * </ul>
 */
public final class TokenizerDescriptions {

    private static final String TYPES = CharTokenizer.NAME + ", " + ByteTokenizer.NAME;

    private TokenizerDescriptions() {
    }

    /**
     * @throws IllegalArgumentException naming the member in error and what is allowed
     */
    public static Tokenizer rebuild(Map<String, Object> description) {
        if (description == null) {
            throw new IllegalArgumentException("tokenizer description is missing; expected {\"type\": one of " + TYPES + ", ...}");
        }
        Object type = description.get("type");
        if (!(type instanceof String name)) {
            throw new IllegalArgumentException("tokenizer description with members " + description.keySet()
                    + ": \"type\" must be one of " + TYPES + ", got " + Values.show(type));
        }
        return switch (name) {
            case ByteTokenizer.NAME -> {
                onlyKeys(description, Set.of("type"));
                yield ByteTokenizer.INSTANCE;
            }
            case CharTokenizer.NAME -> charTokenizer(description);
            default -> throw new IllegalArgumentException(
                    "tokenizer description: \"type\" " + Values.show(type) + " is not supported; allowed: " + TYPES);
        };
    }

    private static CharTokenizer charTokenizer(Map<String, Object> description) {
        onlyKeys(description, Set.of("type", "chars", "unk"));
        Object unk = description.get("unk");
        if (unk != null && !Boolean.TRUE.equals(unk)) {
            throw new IllegalArgumentException("char tokenizer description: \"unk\" must be true (the unknown id "
                    + "is always the last id), got " + Values.show(unk));
        }
        Object chars = description.get("chars");
        if (!(chars instanceof String vocabulary)) {
            throw new IllegalArgumentException("char tokenizer description: \"chars\" must be the vocabulary as "
                    + "one string, got " + Values.show(chars));
        }
        try {
            return CharTokenizer.fromVocabulary(vocabulary);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("char tokenizer description: " + e.getMessage(), e);
        }
    }

    private static void onlyKeys(Map<String, Object> description, Set<String> allowed) {
        for (String key : description.keySet()) {
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException("tokenizer description of type " + description.get("type")
                        + ": unknown member \"" + key + "\"; allowed: " + String.join(", ", new TreeSet<>(allowed)));
            }
        }
    }
}
