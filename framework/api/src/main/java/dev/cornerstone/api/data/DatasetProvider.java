package dev.cornerstone.api.data;

import java.nio.file.Path;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/** A kind of dataset, registered as a service with the property {@code dataset.name}. */
@ConsumerType
public interface DatasetProvider {

    /** The {@code dataset.name}, for example {@code text}. */
    String name();

    /**
     * Opens a dataset from the spec's {@code data} section (without {@code name}); relative
     * paths resolve against {@code baseDir}. Bad keys or unreadable files throw
     * {@link IllegalArgumentException} naming the key or the file.
     */
    Dataset open(Map<String, Object> config, Path baseDir);

    /** Rebuilds a tokenizer from its {@link Tokenizer#describe()} (when a run is resumed or sampled). */
    Tokenizer tokenizer(Map<String, Object> description);
}
