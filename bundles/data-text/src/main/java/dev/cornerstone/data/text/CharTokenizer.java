package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A character-level tokenizer, as nanoGPT's {@code shakespeare_char}: the vocabulary is the sorted
 * distinct characters (Unicode code points) of the training text, ids {@code 0..n-1} in code point
 * order, so a corpus gives the same ids as Python's {@code sorted(set(text))}.
 *
 * <p>One more id, {@code n} (that is {@link #vocabSize()}{@code - 1}), is the unknown token
 * {@code <unk>}: a character the training text did not contain encodes to it instead of failing,
 * so sampling from a prompt or fine-tuning on new text never crashes on a stray character. It
 * decodes to U+FFFD (the replacement character). Surrogate code points (a lone half of a UTF-16
 * pair, which no valid UTF-8 file holds) never enter the vocabulary; they always encode to
 * {@code <unk>}.
 *
 * <p>{@link #describe()} stores the vocabulary as one string, which is all that
 * {@link TokenizerDescriptions#rebuild} needs to give back the same ids.
 */
public final class CharTokenizer implements Tokenizer {

    /** The value of {@code type} in {@link #describe()}. */
    public static final String NAME = "char";

    /** What the unknown id decodes to. */
    public static final int REPLACEMENT = 0xFFFD;

    /** The vocabulary's code points, strictly increasing; index = id. */
    private final int[] codePoints;
    private final String chars;

    private CharTokenizer(int[] codePoints) {
        this.codePoints = codePoints;
        this.chars = new String(codePoints, 0, codePoints.length);
    }

    /**
     * The vocabulary of {@code text}: its distinct code points, sorted, surrogates left out.
     *
     * @throws IllegalArgumentException when {@code text} has no character that can be in a vocabulary
     */
    public static CharTokenizer fromText(String text) {
        Objects.requireNonNull(text, "text");
        var seen = new BitSet(Character.MAX_CODE_POINT + 1);
        text.codePoints().forEach(seen::set);
        seen.clear(Character.MIN_SURROGATE, Character.MAX_SURROGATE + 1);
        if (seen.isEmpty()) {
            throw new IllegalArgumentException("a char vocabulary needs at least one character; the text is empty");
        }
        return new CharTokenizer(seen.stream().toArray());
    }

    /**
     * The tokenizer whose vocabulary is exactly {@code chars}, in that order.
     *
     * @throws IllegalArgumentException when {@code chars} is empty, holds a surrogate, or is not
     *                                  strictly increasing by code point (a repeat or a wrong order
     *                                  would give other ids than the run was trained with)
     */
    public static CharTokenizer fromVocabulary(String chars) {
        Objects.requireNonNull(chars, "chars");
        int[] cps = chars.codePoints().toArray();
        if (cps.length == 0) {
            throw new IllegalArgumentException("a char vocabulary needs at least one character; \"chars\" is empty");
        }
        for (int i = 0; i < cps.length; i++) {
            if (cps[i] >= Character.MIN_SURROGATE && cps[i] <= Character.MAX_SURROGATE) {
                throw new IllegalArgumentException(String.format(
                        "\"chars\" holds the lone surrogate U+%04X at index %d; a vocabulary holds whole characters only",
                        cps[i], i));
            }
            if (i > 0 && cps[i] <= cps[i - 1]) {
                throw new IllegalArgumentException(String.format(
                        "\"chars\" must be sorted by code point without repeats, but U+%04X at index %d follows U+%04X",
                        cps[i], i, cps[i - 1]));
            }
        }
        return new CharTokenizer(cps);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The characters plus one unknown id. */
    @Override
    public int vocabSize() {
        return codePoints.length + 1;
    }

    /** The id every character outside the vocabulary encodes to: {@code vocabSize() - 1}. */
    public int unknownId() {
        return codePoints.length;
    }

    /** The vocabulary as one string, id order (without the unknown id). */
    public String chars() {
        return chars;
    }

    /** One id per code point; characters outside the vocabulary give {@link #unknownId()}. */
    @Override
    public int[] encode(String text) {
        int[] ids = new int[text.codePointCount(0, text.length())];
        int unknown = unknownId();
        for (int i = 0, at = 0; i < text.length(); at++) {
            int cp = text.codePointAt(i);
            int id = Arrays.binarySearch(codePoints, cp);
            ids[at] = id >= 0 ? id : unknown;
            i += Character.charCount(cp);
        }
        return ids;
    }

    /**
     * The characters of {@code ids}; the unknown id gives U+FFFD.
     *
     * @throws IllegalArgumentException when an id is outside {@code [0, vocabSize())}
     */
    @Override
    public String decode(int[] ids) {
        var text = new StringBuilder(ids.length);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id >= 0 && id < codePoints.length) {
                text.appendCodePoint(codePoints[id]);
            } else if (id == codePoints.length) {
                text.appendCodePoint(REPLACEMENT);
            } else {
                throw new IllegalArgumentException(
                        "id " + id + " at position " + i + " is outside the char vocabulary [0, " + vocabSize() + ")");
            }
        }
        return text.toString();
    }

    /** {@code {"type":"char","chars":"<the vocabulary>","unk":true}}. */
    @Override
    public Map<String, Object> describe() {
        var description = new LinkedHashMap<String, Object>();
        description.put("type", NAME);
        description.put("chars", chars);
        description.put("unk", true);
        return Collections.unmodifiableMap(description);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CharTokenizer that && Arrays.equals(codePoints, that.codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }

    @Override
    public String toString() {
        return "CharTokenizer[" + vocabSize() + " ids: " + codePoints.length + " characters + <unk>]";
    }
}
