package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Dataset;
import dev.cornerstone.api.data.Tokenizer;

import java.util.Objects;

/**
 * A tokenized corpus split into training and validation streams.
 *
 * <p>The arrays are handed out as they are, not copied: a corpus can be hundreds of megabytes of
 * ids, and a trainer reads them once. Callers must not modify them.
 *
 * @param tokenizer  what made the ids, and what decodes them
 * @param train      the training ids
 * @param validation the validation ids; empty when {@code val_fraction} is 0
 * @param source     where the data came from and how it was cut, for the run's records
 */
public record TextDataset(Tokenizer tokenizer, int[] train, int[] validation, String source) implements Dataset {

    public TextDataset {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(source, "source");
    }

    @Override
    public String toString() {
        return "TextDataset[" + train.length + " training + " + validation.length + " validation tokens, "
                + tokenizer + ", " + source + "]";
    }
}
