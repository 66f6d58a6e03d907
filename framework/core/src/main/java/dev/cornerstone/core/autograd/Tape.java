package dev.cornerstone.core.autograd;

import java.util.ArrayList;
import java.util.List;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The record of one forward pass: the backward step of every op, in order, and every tensor
 * the pass allocated (activations, scratch, gradients of intermediates). {@link #backward}
 * replays the steps in reverse (reverse-mode differentiation, as micrograd's
 * {@code backward()}); {@link #close()} frees the step's memory, so a training step holds
 * exactly its own activations and nothing leaks from one step to the next.
 */
public final class Tape implements AutoCloseable {

    private final ComputeBackend backend;
    private final List<Runnable> steps = new ArrayList<>();
    private final List<Tensor> owned = new ArrayList<>();
    private boolean backwardDone;

    public Tape(ComputeBackend backend) {
        this.backend = backend;
    }

    public ComputeBackend backend() {
        return backend;
    }

    /** A zero-filled tensor that lives until this tape is closed. */
    public Tensor allocate(Shape shape, DType dtype) {
        Tensor t = backend.allocate(shape, dtype);
        owned.add(t);
        return t;
    }

    void record(Runnable backwardStep) {
        steps.add(backwardStep);
    }

    /**
     * Backpropagates from the scalar {@code loss}, seeding its gradient with {@code seed}
     * (1 for a plain loss, 1/k for one of k accumulated micro-batches).
     */
    public void backward(dev.cornerstone.api.autograd.Var loss, float seed) {
        if (backwardDone) {
            throw new IllegalStateException("backward already ran on this tape");
        }
        if (loss.value().size() != 1) {
            throw new IllegalArgumentException("backward needs a scalar loss, got shape " + loss.value().shape());
        }
        Node n = (Node) loss;
        backend.fill(n.gradOn(this), seed);
        for (int i = steps.size() - 1; i >= 0; i--) {
            steps.get(i).run();
        }
        backwardDone = true;
    }

    /**
     * Backpropagates from a non-scalar output whose gradient is given: computes the
     * gradients of {@code sum(output * outputGrad)}. For gradient checks and custom losses.
     */
    public void backwardFrom(dev.cornerstone.api.autograd.Var output, Tensor outputGrad) {
        if (backwardDone) {
            throw new IllegalStateException("backward already ran on this tape");
        }
        if (!output.shape().equals(outputGrad.shape())) {
            throw new IllegalArgumentException("output " + output.shape() + " and its gradient " + outputGrad.shape()
                    + " differ in shape");
        }
        backend.copy(outputGrad, ((Node) output).gradOn(this));
        for (int i = steps.size() - 1; i >= 0; i--) {
            steps.get(i).run();
        }
        backwardDone = true;
    }

    /** Tensors this tape holds (for tests). */
    int ownedCount() {
        return owned.size();
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
        steps.clear();
    }
}
