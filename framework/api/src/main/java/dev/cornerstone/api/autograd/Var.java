package dev.cornerstone.api.autograd;

import org.osgi.annotation.versioning.ProviderType;

import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/** A value in a differentiable computation, with its gradient once the backward pass ran. */
@ProviderType
public interface Var {

    Tensor value();

    /** The gradient, or null when none flows here (a constant, or before backward). */
    Tensor grad();

    default Shape shape() {
        return value().shape();
    }

    /** Whether gradients flow into this value. */
    boolean requiresGrad();
}
