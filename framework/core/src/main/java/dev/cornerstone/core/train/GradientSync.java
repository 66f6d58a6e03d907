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
 *
 * <p>A step calls, on the trainer's thread: {@link #gradientFinal} for each trainable
 * parameter during the backward pass of the step's last micro-batch, as soon as that
 * parameter's gradient holds its last contribution (so averaging may start while backward
 * still runs); then {@link #averageGradients} with all gradients, which must leave every one
 * averaged; then {@link #average} with the loss.
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

    /**
     * Backward has made its last contribution of this step to parameter {@code name}'s
     * gradient {@code grad} (see {@link dev.cornerstone.core.autograd.Tape#onGradientFinal}):
     * called during the backward pass of the step's last micro-batch, in the order the
     * gradients become final (about the reverse of the parameters' order), which is the same on
     * every rank for the same model. {@code grad} keeps its value until {@link #averageGradients}
     * and may be read now. A parameter that took no part in the step is not reported; every
     * gradient is handed to {@link #averageGradients} afterwards either way. Default: nothing
     * (everything happens in {@link #averageGradients}).
     */
    default void gradientFinal(String name, Tensor grad, ComputeBackend backend) {
    }

    /** The mean of {@code value} over the ranks (a loss); blocks until done. */
    double average(double value);

    /**
     * Figures of the last {@link #averageGradients} (time spent waiting for communication, for
     * example) that {@link TrainingRun} adds to each line of {@code metrics.jsonl}: numbers or
     * strings under snake_case keys. Default: none.
     */
    default java.util.Map<String, Object> stepMetrics() {
        return java.util.Map.of();
    }
}
