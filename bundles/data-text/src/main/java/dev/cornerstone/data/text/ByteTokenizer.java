package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A byte-level tokenizer: the ids are the UTF-8 bytes of the text, so the vocabulary is the 256
 * byte values and any text can be encoded without a vocabulary built from a corpus.
 *
 * <p>A Java string may hold a lone surrogate (half of a UTF-16 pair) that UTF-8 cannot express;
 * it is encoded as the three bytes of U+FFFD, so it comes back from {@link #decode} as U+FFFD,
 * the same as a malformed byte sequence does. Every other string round-trips exactly.
 */
public final class ByteTokenizer implements Tokenizer {

    /** The value of {@code type} in {@link #describe()}. */
    public static final String NAME = "byte";

    /** The one instance; it has no state. */
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private static final int VOCAB_SIZE = 256;

    private ByteTokenizer() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    /** The UTF-8 bytes of {@code text}, each in {@code [0, 256)}; lone surrogates become U+FFFD. */
    @Override
    public int[] encode(String text) {
        // String.getBytes would write '?' for a lone surrogate; U+FFFD says "something was lost"
        // the same way decode does.
        byte[] bytes = withoutLoneSurrogates(text).getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    /**
     * The text whose UTF-8 bytes are {@code ids}; malformed sequences (for example a character
     * cut in half at the end of a sample) become U+FFFD.
     *
     * @throws IllegalArgumentException when an id is not a byte value {@code [0, 256)}
     */
    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= VOCAB_SIZE) {
                throw new IllegalArgumentException(
                        "id " + id + " at position " + i + " is outside the byte vocabulary [0, 256)");
            }
            bytes[i] = (byte) id;
        }
        // The String constructor replaces malformed input; it never throws.
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@code {"type":"byte"}}: nothing else is needed to rebuild it. */
    @Override
    public Map<String, Object> describe() {
        return Map.of("type", NAME);
    }

    @Override
    public String toString() {
        return "ByteTokenizer[256 ids: UTF-8 bytes]";
    }

    private static String withoutLoneSurrogates(String text) {
        StringBuilder fixed = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (fixed != null) {
                    fixed.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (fixed == null) {
                    fixed = new StringBuilder(text.length()).append(text, 0, i);
                }
                fixed.append((char) CharTokenizer.REPLACEMENT);
            } else if (fixed != null) {
                fixed.append(c);
            }
        }
        return fixed == null ? text : fixed.toString();
    }
}
