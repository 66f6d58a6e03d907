package dev.cornerstone.api.model;

import java.util.Map;
import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;

/** A kind of adapter, registered as a service with the property {@code adapter.name} (for example {@code lora}). */
@ConsumerType
public interface AdapterProvider {

    /** The {@code adapter.name}. */
    String name();

    /**
     * An adapter for a model with {@code modelParameters}, its own parameters initialised from
     * {@code seed}. {@code config} is the adapter's section of a spec (for LoRA: {@code lora});
     * unknown keys, bad values or a target that matches no parameter throw
     * {@link IllegalArgumentException} naming the key, the value and what is allowed.
     */
    Adapter create(ComputeBackend backend, SequencedMap<String, Tensor> modelParameters,
                   Map<String, Object> config, long seed);
}
