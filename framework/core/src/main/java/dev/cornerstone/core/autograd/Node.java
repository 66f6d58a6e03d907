package dev.cornerstone.core.autograd;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A value on the tape. Its gradient tensor is made on first use (zero-filled), so the
 * backward kernels can always accumulate into it.
 */
final class Node implements Var {

    private final Tensor value;
    private final boolean requiresGrad;
    private Tensor grad;

    Node(Tensor value, boolean requiresGrad, Tensor grad) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.grad = grad;
    }

    @Override
    public Tensor value() {
        return value;
    }

    @Override
    public Tensor grad() {
        return grad;
    }

    @Override
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The gradient, allocated on {@code tape} when first needed. */
    Tensor gradOn(Tape tape) {
        if (grad == null) {
            grad = tape.allocate(value.shape(), value.dtype());
        }
        return grad;
    }
}
