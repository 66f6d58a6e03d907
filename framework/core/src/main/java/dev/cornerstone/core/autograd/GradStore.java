package dev.cornerstone.core.autograd;

import java.util.LinkedHashMap;
import java.util.SequencedMap;
import java.util.Set;
import java.util.function.Predicate;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;

/**
 * Gradients of the parameters by name, kept across steps so micro-batches accumulate into
 * them; zeroed by the trainer after each optimizer step. Parameters that are frozen get no
 * gradient at all (their ops record nothing for them).
 */
public final class GradStore implements AutoCloseable {

    private final ComputeBackend backend;
    private final SequencedMap<String, Tensor> grads = new LinkedHashMap<>();
    private final Predicate<String> trainable;

    public GradStore(ComputeBackend backend, Predicate<String> trainable) {
        this.backend = backend;
        this.trainable = trainable;
    }

    public GradStore(ComputeBackend backend) {
        this(backend, name -> true);
    }

    public boolean isTrainable(String name) {
        return trainable.test(name);
    }

    /** The gradient of parameter {@code name}, made zero-filled like {@code value} when first asked. */
    Tensor gradFor(String name, Tensor value) {
        Tensor g = grads.get(name);
        if (g == null) {
            g = backend.allocate(value.shape(), value.dtype());
            grads.put(name, g);
        } else if (!g.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape()
                    + " but its gradient has " + g.shape());
        }
        return g;
    }

    public SequencedMap<String, Tensor> grads() {
        return grads;
    }

    public Set<String> names() {
        return grads.keySet();
    }

    public void zero() {
        for (Tensor g : grads.values()) {
            backend.fill(g, 0f);
        }
    }

    /** Global L2 norm of all gradients, accumulated in double. */
    public double globalNorm() {
        double s = 0;
        for (Tensor g : grads.values()) {
            s += backend.sumOfSquares(g);
        }
        return Math.sqrt(s);
    }

    /** Multiplies every gradient by {@code factor}. */
    public void scale(float factor) {
        for (Tensor g : grads.values()) {
            backend.scale(g, factor, g);
        }
    }

    @Override
    public void close() {
        for (Tensor g : grads.values()) {
            g.close();
        }
        grads.clear();
    }
}
