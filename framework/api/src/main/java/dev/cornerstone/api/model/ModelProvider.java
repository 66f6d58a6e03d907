package dev.cornerstone.api.model;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.backend.ComputeBackend;

/** A model family, registered as a service with the property {@code model.name}. */
@ConsumerType
public interface ModelProvider {

    /** The {@code model.name}, for example {@code gpt}. */
    String name();

    /**
     * Builds a model on {@code backend} with freshly initialised parameters, drawn from
     * {@code seed}. {@code config} holds the spec's {@code model} section (without
     * {@code name}); unknown keys or bad values throw {@link IllegalArgumentException}
     * naming the key, the value and what is allowed.
     */
    Model create(ComputeBackend backend, Map<String, Object> config, long seed);
}
