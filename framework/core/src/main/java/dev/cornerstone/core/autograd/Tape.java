package dev.cornerstone.core.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

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
 *
 * <p><b>Gradients that are final.</b> A listener given to {@link #onGradientFinal} is called
 * during {@link #backward} once for each trainable parameter bound on this tape (through
 * {@link Graph#param}), as soon as the backward pass has made its last contribution to that
 * parameter's gradient, so a data-parallel trainer can start averaging it while the rest of
 * backward runs (PyTorch DDP's gradient hooks). The tape knows the point without tracking the
 * ops' inputs: a parameter bound while step k was the next to be recorded is read only by ops
 * of index k or later, whose backward steps run before step k's turn ends; so its gradient is
 * final once step k has run (at the very start of backward if no step was recorded after it).
 * For a model that binds each parameter right before its first use this is exactly its last
 * contribution; binding earlier only reports it later. Parameters final after the same step are
 * reported in the reverse order of their binding.
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
    /** Trainable parameters bound on this tape, by the backward step after which their gradients are final. */
    private final List<List<BoundParam>> finalAfter = new ArrayList<>();
    private BiConsumer<String, Tensor> gradientFinal;

    private record BoundParam(String name, Tensor grad) {
    }

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

    /**
     * Calls {@code listener} with each trainable parameter's name and gradient tensor as soon
     * as backward has made its last contribution to it (see the class comment). Set it before
     * {@link #backward}; the listener runs on the thread that runs backward, and an exception it
     * throws ends the backward pass with that exception.
     */
    public void onGradientFinal(BiConsumer<String, Tensor> listener) {
        this.gradientFinal = listener;
    }

    /** Records that trainable parameter {@code name}, whose gradient is {@code grad}, was bound now. */
    void parameterBound(String name, Tensor grad) {
        int step = steps.size();
        while (finalAfter.size() <= step) {
            finalAfter.add(new ArrayList<>());
        }
        finalAfter.get(step).add(new BoundParam(name, grad));
    }

    /** Reports the parameters whose gradients are final once backward step {@code step} has run. */
    private void reportFinal(int step) {
        if (gradientFinal == null || step >= finalAfter.size()) {
            return;
        }
        List<BoundParam> ready = finalAfter.get(step);
        for (int j = ready.size() - 1; j >= 0; j--) {
            gradientFinal.accept(ready.get(j).name(), ready.get(j).grad());
        }
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
            for (int i = finalAfter.size() - 1; i >= steps.size(); i--) {
                reportFinal(i); // bound after the last recorded step: nothing contributes to them
            }
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
                reportFinal(i);
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
        finalAfter.clear();
    }
}
