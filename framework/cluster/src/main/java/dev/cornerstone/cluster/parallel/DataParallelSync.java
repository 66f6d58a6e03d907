package dev.cornerstone.cluster.parallel;

import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.ReduceOp;
import dev.cornerstone.core.train.GradientSync;

/**
 * Data-parallel gradient averaging over a ring: the gradients are read from the backend into
 * one flat array (reused from step to step), all-reduced to their mean in one operation, and
 * written back. Every rank must hand in the same gradients in the same order, which a
 * {@link dev.cornerstone.core.train.Trainer} with the same model does.
 *
 * <p>Not yet: gradient buckets all-reduced while backward still runs (the trainer's backward
 * pass has no per-parameter hook yet); the communicator's operations are asynchronous, so
 * buckets can be issued as soon as such a hook exists.
 */
public final class DataParallelSync implements GradientSync {

    private final Communicator comm;
    private float[] flat = new float[0];

    public DataParallelSync(Communicator comm) {
        this.comm = comm;
    }

    @Override
    public int rank() {
        return comm.rank();
    }

    @Override
    public int worldSize() {
        return comm.worldSize();
    }

    @Override
    public void averageGradients(SequencedMap<String, Tensor> grads, ComputeBackend backend) {
        long total = 0;
        for (Tensor g : grads.values()) {
            total += g.size();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(total + " gradient elements do not fit one all-reduce buffer");
        }
        if (flat.length < total) {
            flat = new float[(int) total];
        }
        int at = 0;
        for (Tensor g : grads.values()) {
            int n = (int) g.size();
            backend.read(g, 0, flat, at, n);
            at += n;
        }
        await(comm.allReduce(flat, 0, at, ReduceOp.AVG));
        at = 0;
        for (Tensor g : grads.values()) {
            int n = (int) g.size();
            backend.write(g, 0, flat, at, n);
            at += n;
        }
    }

    @Override
    public double average(double value) {
        float[] v = {(float) value};
        await(comm.allReduce(v, ReduceOp.AVG));
        return v[0];
    }

    private static void await(CompletableFuture<Void> f) {
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new CompletionException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while averaging gradients", e);
        }
    }
}
