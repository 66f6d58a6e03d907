package dev.cornerstone.api.data;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/** Text to token ids and back. */
@ConsumerType
public interface Tokenizer {

    /** {@code char} or {@code byte}, for example. */
    String name();

    int vocabSize();

    int[] encode(String text);

    String decode(int[] ids);

    /** Everything needed to rebuild this tokenizer, stored with a run (for char: its vocabulary). */
    Map<String, Object> describe();
}
