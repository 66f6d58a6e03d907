package dev.cornerstone.cluster.parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.ReduceOp;
import dev.cornerstone.core.train.GradientSync;

/**
 * Data-parallel gradient averaging over a ring, in buckets overlapped with the backward pass
 * (as PyTorch's DistributedDataParallel): each gradient is read from the backend into one
 * flat off-heap buffer of little-endian floats (reused from step to step; a backend whose
 * tensors are host memory copies straight into it) as soon as the trainer reports it final
 * ({@link #gradientFinal}), and each bucket of {@link BucketPlan} is all-reduced to its mean,
 * asynchronously, as soon as all its gradients are in, while backward goes on computing the
 * others, as an off-heap operand (with the {@code SOCKET} transport its floats go from and
 * into the buffer with no staging copy). {@link #averageGradients} reads what was not reported, starts the remaining buckets,
 * waits for all of them and writes the means back. Every rank must hand in the same gradients in
 * the same order, which a {@link dev.cornerstone.core.train.Trainer} with the same model does.
 *
 * <p>The plan is made once, at the end of the first step, from the order in which the
 * gradients became final in it (the first step itself all-reduces its buckets at its end), and
 * checked against rank 0's by one small broadcast, so ranks with different plans fail at once
 * instead of averaging unrelated numbers. Buckets are started in plan order; one whose gradients
 * come in out of order waits for them, so the averages never depend on timing.
 */
public final class DataParallelSync implements GradientSync {

    /**
     * Default bucket size, as PyTorch DDP's {@code bucket_cap_mb}: large enough for few
     * operations, small enough to overlap.
     */
    public static final long DEFAULT_BUCKET_BYTES = 4L << 20;

    private final Communicator comm;
    private final long bucketBytes;
    /** The gradients, little-endian floats in plan order; freed with the sync (by the collector). */
    private MemorySegment flat = MemorySegment.NULL;
    private BucketPlan plan;
    /** First step: the order in which gradients became final. */
    private final SequencedSet<String> firstOrder = new LinkedHashSet<>();

    /** The step in flight; made with the plan. */
    private BucketSteps steps;
    private Map<String, Object> lastStep = Map.of();

    public DataParallelSync(Communicator comm) {
        this(comm, DEFAULT_BUCKET_BYTES);
    }

    /** @param bucketBytes gradient bytes per bucket ({@code cluster.bucket_bytes}) */
    public DataParallelSync(Communicator comm, long bucketBytes) {
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("cluster.bucket_bytes: " + bucketBytes + " is less than one float (4)");
        }
        this.comm = comm;
        this.bucketBytes = bucketBytes;
    }

    @Override
    public int rank() {
        return comm.rank();
    }

    @Override
    public int worldSize() {
        return comm.worldSize();
    }

    /** The plan, once the first step has made it; null before. */
    public BucketPlan plan() {
        return plan;
    }

    @Override
    public void gradientFinal(String name, Tensor grad, ComputeBackend backend) {
        if (plan == null) {
            firstOrder.add(name);
            return;
        }
        int p = plan.indexOf(name);
        if (p >= 0 && !steps.isIn(p)) { // an unknown name fails in averageGradients, on every rank alike
            copyIn(p, grad, backend);
            steps.startReady();
        }
    }

    @Override
    public void averageGradients(SequencedMap<String, Tensor> grads, ComputeBackend backend) {
        if (plan == null) {
            plan = makePlan(grads);
            int[] bucketOf = new int[plan.names().size()];
            for (int p = 0; p < bucketOf.length; p++) {
                bucketOf[p] = plan.bucketOf(p);
            }
            steps = new BucketSteps(bucketOf, plan.buckets().size(), b -> {
                BucketPlan.Bucket bucket = plan.buckets().get(b);
                return comm.allReduce(flat.asSlice((long) bucket.offset() * Float.BYTES,
                        (long) bucket.length() * Float.BYTES), ReduceOp.AVG);
            });
        }
        checkSameGradients(grads);
        steps.backwardOver();
        try {
            for (int p = 0; p < plan.names().size(); p++) { // not reported: unused this step, or the first step
                if (!steps.isIn(p)) {
                    copyIn(p, grads.get(plan.names().get(p)), backend);
                }
            }
            steps.startReady();
            long waitNanos = steps.awaitAll(DataParallelSync::await);
            for (int p = 0; p < plan.names().size(); p++) {
                backend.write(grads.get(plan.names().get(p)), 0, flat, (long) plan.offset(p) * Float.BYTES,
                        plan.size(p));
            }
            lastStep = steps.figures(waitNanos);
        } finally {
            steps.reset();
        }
    }

    /**
     * What the last step's averaging did: {@code buckets}, {@code buckets_started_in_backward}
     * (0 in the first step), {@code grad_read_ms} (reading gradients to host) and
     * {@code comm_wait_ms} (waiting for the all-reduces after backward).
     */
    @Override
    public Map<String, Object> stepMetrics() {
        return lastStep;
    }

    @Override
    public double average(double value) {
        float[] v = {(float) value};
        await(comm.allReduce(v, ReduceOp.AVG));
        return v[0];
    }

    private void copyIn(int p, Tensor grad, ComputeBackend backend) {
        long t0 = System.nanoTime();
        backend.read(grad, 0, flat, (long) plan.offset(p) * Float.BYTES, plan.size(p));
        steps.in(p, System.nanoTime() - t0);
    }

    private BucketPlan makePlan(SequencedMap<String, Tensor> grads) {
        List<String> order = new ArrayList<>();
        for (String name : firstOrder) {
            if (grads.containsKey(name)) {
                order.add(name);
            }
        }
        for (String name : grads.reversed().keySet()) { // not reported: after the others, last parameter first
            if (!firstOrder.contains(name)) {
                order.add(name);
            }
        }
        firstOrder.clear();
        SequencedMap<String, Integer> elements = new LinkedHashMap<>();
        for (String name : order) {
            elements.put(name, Math.toIntExact(grads.get(name).size()));
        }
        BucketPlan made = BucketPlan.of(elements, bucketBytes);
        // every rank must cut the same buckets: compare with rank 0's (16 bits a float, exact)
        int mine = made.fingerprint();
        float[] fp = {mine >>> 16, mine & 0xFFFF};
        await(comm.broadcast(fp, 0, 2, 0));
        int theirs = ((int) fp[0] << 16) | (int) fp[1];
        if (theirs != mine) {
            String why = "rank " + comm.rank() + " cut its gradients into other buckets than rank 0 (the ranks' "
                    + "models differ, or their backward passes finish the gradients in another order)";
            comm.abort(why);
            throw new IllegalStateException(why);
        }
        if (flat.byteSize() < (long) made.totalElements() * Float.BYTES) {
            // shared: the ring's threads read and write it; automatic: no close call to forget
            flat = Arena.ofAuto().allocate((long) made.totalElements() * Float.BYTES, 64);
        }
        return made;
    }

    private void checkSameGradients(SequencedMap<String, Tensor> grads) {
        boolean same = grads.size() == plan.names().size();
        for (int p = 0; same && p < plan.names().size(); p++) {
            Tensor g = grads.get(plan.names().get(p));
            same = g != null && g.size() == plan.size(p);
        }
        if (!same) {
            String why = "the gradients changed after the first step: " + grads.size() + " tensors, the bucket plan "
                    + "holds " + plan.names().size();
            comm.abort(why);
            throw new IllegalStateException(why);
        }
    }

    private static void await(CompletableFuture<?> f) {
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
