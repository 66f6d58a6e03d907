package dev.cornerstone.api.model;

import java.util.Map;
import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A few trainable parameters added to a model whose own parameters stay fixed (LoRA, for
 * example: Hu et al. 2021). The model's forward pass runs through {@link #apply(Ops)}, which
 * adds the adapter's contribution where it applies; the model itself is not changed.
 * Closing the adapter frees its parameters.
 */
@ConsumerType
public interface Adapter extends AutoCloseable {

    /** The resolved configuration (every key with its value), stored beside the adapter's weights. */
    Map<String, Object> config();

    /** The adapter's own parameters, keyed by checkpoint name; they never collide with the model's names. */
    SequencedMap<String, Tensor> parameters();

    /**
     * The factor on the learning rate of {@code parameter}, one of {@link #parameters()}, against
     * the rate the adapter's parameters learn at (LoRA+, Hayou et al. 2024: B faster than A).
     * The trainer multiplies the rate it would use by this; 1 unless the adapter says otherwise.
     */
    default double learningRateScale(String parameter) {
        return 1.0;
    }

    /** The operations the adapted model's forward pass is written with: {@code ops} plus this adapter. */
    Ops apply(Ops ops);

    /**
     * Folds the adapter into the model's parameters it was made for, in place: afterwards the
     * model alone computes what model and adapter computed together (without dropout).
     */
    void merge(SequencedMap<String, Tensor> modelParameters);

    @Override
    void close();
}
