package dev.cornerstone.api.data;

import org.osgi.annotation.versioning.ConsumerType;

/** A tokenized corpus, split deterministically into training and validation token streams. */
@ConsumerType
public interface Dataset {

    Tokenizer tokenizer();

    /** Token ids of the training split. */
    int[] train();

    /** Token ids of the validation split. */
    int[] validation();

    /** Where the data came from, for the run's records. */
    String source();
}
