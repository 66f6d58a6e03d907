package dev.cornerstone.api.optim;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.backend.ComputeBackend;

/** An optimizer family, registered as a service with the property {@code optimizer.name}. */
@ConsumerType
public interface OptimizerProvider {

    /** The {@code optimizer.name}, for example {@code adamw}. */
    String name();

    /**
     * An optimizer from the spec's {@code optimizer} section (without {@code name} and
     * {@code lr}, which the trainer's schedule supplies at each step); unknown keys or bad
     * values throw {@link IllegalArgumentException} naming the key.
     */
    Optimizer create(ComputeBackend backend, Map<String, Object> config);
}
