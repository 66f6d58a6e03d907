package dev.cornerstone.data.text;

import java.util.Objects;

/**
 * One labelled text of a classification set, as read from a JSONL file.
 *
 * @param line  the 1-based line of the file it came from, for messages about it later
 * @param id    the optional {@code id} field, or {@code null}; the key of the train/validation split
 * @param text  the text to classify
 * @param label its class, for example {@code spam} or {@code ham}; {@code null} only when the file
 *              was read with {@link ClassificationJsonl.Labels#OPTIONAL} and the line has none
 */
public record ClassificationExample(int line, String id, String text, String label) {

    public ClassificationExample {
        Objects.requireNonNull(text, "text");
    }

    /** What the split hashes: the {@code id} when there is one, the text otherwise. */
    public String splitKey() {
        return id != null ? id : text;
    }
}
