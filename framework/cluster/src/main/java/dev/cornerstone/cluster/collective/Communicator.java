package dev.cornerstone.cluster.collective;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

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

    /** Floats of an off-heap operand: little-endian, as on x86 and ARM ({@code ValueLayout.JAVA_FLOAT} there). */
    ValueLayout.OfFloat SEGMENT_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * {@link #allReduce(float[], int, int, ReduceOp)} of the whole of {@code data}, off-heap
     * floats ({@link #SEGMENT_FLOAT}). {@code data} must be accessible from other threads (an
     * automatic, shared or global arena's) and stay alive until the future completes. With the
     * {@code SOCKET} transport the ring sends straight from the segment and adds or copies
     * straight into it (no copy out of the Java heap); other transports stage it through an array.
     */
    default CompletableFuture<Void> allReduce(MemorySegment data, ReduceOp op) {
        return staged(data, a -> allReduce(a, 0, a.length, op));
    }

    /** {@link #reduceScatter(float[], int, int, ReduceOp)} of the whole of {@code data} (see {@link #allReduce(MemorySegment, ReduceOp)}). */
    default CompletableFuture<Void> reduceScatter(MemorySegment data, ReduceOp op) {
        return staged(data, a -> reduceScatter(a, 0, a.length, op));
    }

    /** {@link #allGather(float[], int, int)} of the whole of {@code data} (see {@link #allReduce(MemorySegment, ReduceOp)}). */
    default CompletableFuture<Void> allGather(MemorySegment data) {
        return staged(data, a -> allGather(a, 0, a.length));
    }

    /** {@link #broadcast(float[], int, int, int)} of the whole of {@code data} (see {@link #allReduce(MemorySegment, ReduceOp)}). */
    default CompletableFuture<Void> broadcast(MemorySegment data, int root) {
        return staged(data, a -> broadcast(a, 0, a.length, root));
    }

    private CompletableFuture<Void> staged(MemorySegment data, Function<float[], CompletableFuture<Void>> op) {
        java.util.Objects.requireNonNull(data, "data");
        long bytes = data.byteSize();
        if (bytes % Float.BYTES != 0 || bytes / Float.BYTES > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("data: a segment of " + bytes + " bytes is not a whole number of floats"
                    + " that fits an array");
        }
        if (!data.isAccessibleBy(Thread.ofPlatform().unstarted(() -> { }))) { // a thread never started owns nothing
            throw new IllegalArgumentException("data: a segment of a confined arena cannot be used by the ring's "
                    + "threads; allocate it from an automatic, shared or global arena");
        }
        float[] a = new float[(int) (bytes / Float.BYTES)];
        MemorySegment.copy(data, SEGMENT_FLOAT, 0, a, 0, a.length);
        return op.apply(a).thenRun(() -> MemorySegment.copy(a, 0, data, SEGMENT_FLOAT, 0, a.length));
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
