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
 *
 * <p>The backward pass frees memory as it goes, as PyTorch's autograd does: a tensor made
 * while the op with step index k was being recorded (its output, its saved values, scratch) is
 * read only by backward steps k and later, which run first, so it is freed right after step k
 * runs; the gradient of an op's output goes after that op's step, and a tensor made inside a
 * backward step goes after that step. So at any moment of the backward pass only what is still
 * to be read is alive, not every activation and every gradient of the step. The loss (or the
 * output given to {@link #backwardFrom}) stays readable until {@link #close()}; any other value
 * read after backward is closed, and the backend refuses it loudly.
 */
public final class Tape implements AutoCloseable {

    private final ComputeBackend backend;
    private final List<Runnable> steps = new ArrayList<>();
    /** Tensors kept until close. */
    private final List<Tensor> owned = new ArrayList<>();
    /** Tensors freed right after backward step i ran, by i. */
    private final List<List<Tensor>> releasedAfter = new ArrayList<>();
    /** The backward step running now; -1 outside the backward pass. */
    private int running = -1;
    private boolean backwardDone;

    public Tape(ComputeBackend backend) {
        this.backend = backend;
    }

    public ComputeBackend backend() {
        return backend;
    }

    /**
     * A zero-filled tensor of the op being recorded (or of the backward step running): freed
     * after that op's backward step, or when the tape closes if backward never runs.
     */
    public Tensor allocate(Shape shape, DType dtype) {
        return allocateReleasedAfter(shape, dtype, running >= 0 ? running : steps.size());
    }

    /** A zero-filled tensor freed right after backward step {@code step}. */
    Tensor allocateReleasedAfter(Shape shape, DType dtype, int step) {
        return track(backend.allocate(shape, dtype), step);
    }

    /**
     * As {@link #allocateReleasedAfter}, with unspecified contents: for an op's output, which its
     * forward kernel writes in full ({@link ComputeBackend#allocateUninitialized}).
     */
    Tensor allocateOutput(Shape shape, DType dtype) {
        return track(backend.allocateUninitialized(shape, dtype), running >= 0 ? running : steps.size());
    }

    private Tensor track(Tensor t, int step) {
        while (releasedAfter.size() <= step) {
            releasedAfter.add(new ArrayList<>());
        }
        releasedAfter.get(step).add(t);
        return t;
    }

    /** A zero-filled tensor that lives until this tape is closed. */
    Tensor allocateKept(Shape shape, DType dtype) {
        Tensor t = backend.allocate(shape, dtype);
        owned.add(t);
        return t;
    }

    /** The index the next recorded backward step gets. */
    int stepCount() {
        return steps.size();
    }

    void record(Runnable backwardStep) {
        steps.add(backwardStep);
    }

    /** Runs the backward steps in reverse, freeing what each was the last to read; {@code keep} stays. */
    private void runBackward(Tensor keep) {
        try {
            for (int i = steps.size() - 1; i >= 0; i--) {
                running = i;
                steps.get(i).run();
                if (i < releasedAfter.size()) {
                    for (Tensor t : releasedAfter.get(i)) {
                        if (t == keep) {
                            owned.add(t);
                        } else {
                            t.close();
                        }
                    }
                    releasedAfter.get(i).clear();
                }
            }
        } finally {
            running = -1;
        }
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
        backwardDone = true;
        runBackward(n.value());
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
        backwardDone = true;
        runBackward(output.value());
    }

    /** Tensors this tape holds (for tests). */
    int ownedCount() {
        return owned.size() + releasedAfter.stream().mapToInt(List::size).sum();
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
        for (List<Tensor> l : releasedAfter) {
            for (Tensor t : l) {
                t.close();
            }
        }
        releasedAfter.clear();
        steps.clear();
    }
}
