package dev.cornerstone.api.optim;

import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.tensor.Tensor;

/**
 * An optimizer bound to a set of named parameters. Its state is a set of named tensors
 * ({@code <param>.<slot>}, for example {@code wte.weight.exp_avg}) so a checkpoint stores it
 * by parameter name, independent of how many ranks hold it.
 */
@ConsumerType
public interface Optimizer extends AutoCloseable {

    /** Updates every parameter from its gradient with learning rate {@code lr}, as one fused kernel each. */
    void step(SequencedMap<String, Tensor> params, SequencedMap<String, Tensor> grads, float lr);

    /** Steps taken so far. */
    int stepCount();

    /** Sets the step count (when resuming from a checkpoint). */
    void setStepCount(int steps);

    /** The state tensors, allocated for {@code params} if not yet (zero), keyed by {@code <param>.<slot>}. */
    SequencedMap<String, Tensor> state(SequencedMap<String, Tensor> params);

    @Override
    void close();
}
