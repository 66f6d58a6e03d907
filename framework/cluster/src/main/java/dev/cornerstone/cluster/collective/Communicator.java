package dev.cornerstone.cluster.collective;

import java.util.concurrent.CompletableFuture;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One rank's end of a ring of {@link #worldSize()} ranks of a job, over the event bus.
 *
 * <p>Every rank must call the same collectives, with the same lengths, in the same order
 * (as in MPI and NCCL); a mismatch fails the operation with a message that says so. Calls
 * return at once: the operation runs on an event-loop thread and the future completes when
 * this rank's part is done, so several operations (gradient buckets) may be in flight while
 * the caller computes. The caller must not touch the array range of an operation until its
 * future completes. Futures complete on an event-loop thread: do not block in callbacks
 * chained to them without {@code ...Async}.
 *
 * <p>A failed operation (timeout, lost peer, protocol error) fails every operation in
 * flight and every later one: the ring is broken and a new communicator (of a new
 * generation) must be formed.
 */
@ProviderType
public interface Communicator extends AutoCloseable {

    String job();

    int rank();

    int worldSize();

    long generation();

    /**
     * Ring all-reduce in place: afterwards {@code data[offset, offset + length)} holds, on
     * every rank, the element-wise {@code op} over the ranks' inputs (identical bits on all
     * ranks). Each rank sends and receives {@code 2 (n - 1) / n} times the range's bytes.
     */
    CompletableFuture<Void> allReduce(float[] data, int offset, int length, ReduceOp op);

    /**
     * Reduce-scatter in place: afterwards segment {@code rank()} of the range (see
     * {@link Partition}) holds the element-wise {@code op} over the ranks' inputs; the other
     * segments hold partial results.
     */
    CompletableFuture<Void> reduceScatter(float[] data, int offset, int length, ReduceOp op);

    /**
     * All-gather in place: each rank holds its own segment {@code rank()} of the range (see
     * {@link Partition}); afterwards every rank holds every segment.
     */
    CompletableFuture<Void> allGather(float[] data, int offset, int length);

    /** Broadcast in place: afterwards every rank holds {@code root}'s range. */
    CompletableFuture<Void> broadcast(float[] data, int offset, int length, int root);

    default CompletableFuture<Void> allReduce(float[] data, ReduceOp op) {
        return allReduce(data, 0, data.length, op);
    }

    /**
     * Fails every operation in flight and every later one with {@code reason}, for example
     * when the job's coordinator has started a new generation.
     */
    void abort(String reason);

    /** Leaves the ring: unregisters this rank's consumer; operations in flight fail. */
    @Override
    void close();
}
