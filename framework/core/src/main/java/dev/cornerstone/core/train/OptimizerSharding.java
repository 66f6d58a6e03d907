package dev.cornerstone.core.train;

import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.checkpoint.SafeTensors;

/**
 * ZeRO stage 1 (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion
 * Parameter Models"): data parallelism in which the optimizer state is partitioned over the
 * ranks. Each parameter has one owner rank; only the owner holds its optimizer state and
 * updates it. A {@link Trainer} given such a sync ({@link Trainer#dataParallel}) steps as
 * follows:
 *
 * <pre>
 * averageGradients      afterwards the gradients of the parameters this rank owns hold their mean over
 *                       the ranks (the others may hold anything: partial sums)
 * globalNorm            the norm of all averaged gradients, equal on every rank (gradient clipping)
 * optimizer step        over the parameters this rank {@linkplain #owns owns} only
 * gatherParameters      every rank takes every parameter from its owner
 * </pre>
 *
 * Every method is collective except {@link #owns}: all ranks call it at the same point, in
 * the same order. Implemented by the cluster bundle over its collectives.
 */
@ConsumerType
public interface OptimizerSharding extends GradientSync {

    /**
     * Decides which rank owns which parameter; called once by the trainer, before the first
     * step, with the model's parameters (the same names, shapes and order on every rank).
     */
    void shard(SequencedMap<String, Tensor> params);

    /** Whether this rank owns parameter {@code name}: holds its optimizer state and updates it. */
    boolean owns(String name);

    /** The L2 norm of all averaged gradients (after {@link #averageGradients}), identical on every rank. */
    double globalNorm(SequencedMap<String, Tensor> grads, ComputeBackend backend);

    /** After the optimizer step: every parameter takes its owner's value, on every rank. */
    void gatherParameters(SequencedMap<String, Tensor> params, ComputeBackend backend);

    /**
     * The whole optimizer state, as one process training alone would hold it: the same names
     * ({@code <param>.<slot>}) and shapes, in parameter order, so a checkpoint does not depend
     * on the world size. {@code local} is this rank's state (that of the parameters it owns);
     * every rank gets the whole state back.
     */
    SequencedMap<String, SafeTensors.Entry> gatherState(SequencedMap<String, Tensor> local,
                                                        SequencedMap<String, Tensor> params, ComputeBackend backend);
}
