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
    /** The backward step after which a tape-made gradient is freed; -1: kept until the tape closes. */
    private final int releaseAfter;

    Node(Tensor value, boolean requiresGrad, Tensor grad) {
        this(value, requiresGrad, grad, -1);
    }

    Node(Tensor value, boolean requiresGrad, Tensor grad, int releaseAfter) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.grad = grad;
        this.releaseAfter = releaseAfter;
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
            grad = releaseAfter >= 0 ? tape.allocateReleasedAfter(value.shape(), value.dtype(), releaseAfter)
                    : tape.allocateKept(value.shape(), value.dtype());
        }
        return grad;
    }
}
