package dev.cornerstone.core.train;

import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;

/**
 * Data parallelism for a {@link Trainer}: this trainer is rank {@link #rank()} of
 * {@link #worldSize()} trainers with the same model, seed and spec. Each draws the same global
 * batch, computes the loss and gradients of its own share of the sequences (rows
 * {@code [rank * B / n, (rank + 1) * B / n)}), and the gradients are then averaged over the
 * ranks, so every rank takes the step single-process training takes on the whole batch (up to
 * the order of floating-point sums). Implemented by the cluster bundle over its collectives.
 */
@ConsumerType
public interface GradientSync {

    int rank();

    int worldSize();

    /**
     * Replaces every gradient with its mean over the ranks; {@code grads} are in the same
     * order, with the same shapes, on every rank. Blocks until done; fails with the
     * collective's error.
     */
    void averageGradients(SequencedMap<String, Tensor> grads, ComputeBackend backend);

    /** The mean of {@code value} over the ranks (a loss); blocks until done. */
    double average(double value);
}
