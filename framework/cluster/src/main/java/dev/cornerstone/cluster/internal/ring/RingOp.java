package dev.cornerstone.cluster.internal.ring;

import java.util.BitSet;
import java.util.concurrent.CompletableFuture;

import dev.cornerstone.cluster.collective.Partition;
import dev.cornerstone.cluster.collective.ReduceOp;

/**
 * The plan and progress of one ring operation on one rank. The range is cut into one
 * segment per rank ({@link Partition}), each segment into pieces of at most
 * {@code chunkFloats}; a message carries one piece of one step.
 *
 * <p>The schedule, for rank {@code r} of {@code n} ({@code prev = r - 1}, {@code next = r + 1},
 * segment indices mod {@code n}):
 *
 * <pre>
 * all-reduce     steps 0 .. 2n-3
 *   t &lt; n-1 (reduce-scatter): send segment r-t-1, receive segment r-t-2 and add it
 *   t &ge; n-1 (all-gather, u = t-(n-1)): send segment r-u, receive segment r-u-1 and copy it
 * reduce-scatter steps 0 .. n-2, as the first half of all-reduce: rank r ends owning segment r
 * all-gather     steps 0 .. n-2, as the second half: rank r starts owning segment r
 * broadcast      steps 0 .. n-2 over the whole range: the rank d = r - root hops from the root
 *                receives step d-1 and sends step d
 * </pre>
 *
 * The segment received at step {@code t} is the one sent at step {@code t + 1}, so every
 * piece received is forwarded as soon as it has been added or copied (pipelining at piece
 * granularity, as NCCL's ring does); only step 0 is sent from the start.
 */
final class RingOp {

    final long seq;
    final OpKind kind;
    final ReduceOp reduce;
    final int root;
    final float[] data;
    /** The operand when it is off-heap (then {@link #data} is null): little-endian floats. */
    final java.lang.foreign.MemorySegment mem;
    final int offset;
    final int length;
    final int rank;
    final int world;
    final int chunkFloats;
    final int totalSteps;
    final int expected;
    /** Chunks this rank writes to its successor in the whole operation. */
    final int sendsTotal;
    final CompletableFuture<Void> future;
    final long startNanos = System.nanoTime();

    private final BitSet seen = new BitSet();
    private final int maxPieces;
    int received;
    int outstandingWrites;
    int writesDone;
    int writesStarted;
    long timer = -1;
    boolean finished;
    /**
     * SOCKET, off-heap operand: receiver threads reading straight into {@link #mem} now. Once
     * {@link #sealed}, none may start; the operation's future completes only when none is left
     * (the caller may reuse its memory the moment it does).
     */
    final java.util.concurrent.atomic.AtomicInteger writers = new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean sealed;
    /** Set while the first step's pieces are being written: the operation cannot be complete yet. */
    boolean starting;

    RingOp(long seq, OpKind kind, ReduceOp reduce, int root, float[] data, int offset, int length, int rank, int world,
           int chunkFloats, CompletableFuture<Void> future) {
        this(seq, kind, reduce, root, data, null, offset, length, rank, world, chunkFloats, future);
    }

    /** An operation on the whole of {@code mem}, {@code length} floats. */
    RingOp(long seq, OpKind kind, ReduceOp reduce, int root, java.lang.foreign.MemorySegment mem, int length, int rank,
           int world, int chunkFloats, CompletableFuture<Void> future) {
        this(seq, kind, reduce, root, null, mem, 0, length, rank, world, chunkFloats, future);
    }

    private RingOp(long seq, OpKind kind, ReduceOp reduce, int root, float[] data, java.lang.foreign.MemorySegment mem,
                   int offset, int length, int rank, int world, int chunkFloats, CompletableFuture<Void> future) {
        this.seq = seq;
        this.mem = mem;
        this.kind = kind;
        this.reduce = reduce;
        this.root = root;
        this.data = data;
        this.offset = offset;
        this.length = length;
        this.rank = rank;
        this.world = world;
        this.chunkFloats = chunkFloats;
        this.future = future;
        this.totalSteps = world == 1 || length == 0 ? 0 : switch (kind) {
            case ALL_REDUCE -> 2 * (world - 1);
            case REDUCE_SCATTER, ALL_GATHER, BROADCAST -> world - 1;
        };
        this.maxPieces = Math.max(1, pieces(kind == OpKind.BROADCAST ? length : Partition.size(length, world, 0)));
        int e = 0;
        if (kind == OpKind.BROADCAST) {
            e = totalSteps > 0 && rank != root ? pieces(length) : 0;
        } else {
            for (int t = 0; t < totalSteps; t++) {
                e += pieces(segLength(recvSegment(t)));
            }
        }
        this.expected = e;
        int sends = sendsFirst() ? pieces(segLength(sendSegment(0))) : 0;
        for (int t = 0; t + 1 < totalSteps; t++) {
            if (receivesAt(t)) {
                sends += pieces(segLength(recvSegment(t))); // each piece received at t is sent on at t + 1
            }
        }
        this.sendsTotal = sends;
    }

    /**
     * Whether this operation still has chunks to hand to the successor's stream. Writes
     * already handed over are not counted: if the stream closes under them they fail on their
     * own, and if it closes after they reached the successor, this rank's part is done.
     */
    boolean needsNext() {
        return writesStarted < sendsTotal;
    }

    /** Whether this operation still waits for the predecessor. */
    boolean needsPrev() {
        return received < expected;
    }

    int pieces(int segLength) {
        return (segLength + chunkFloats - 1) / chunkFloats;
    }

    /** Hops from the root (broadcast). */
    int distance() {
        return Math.floorMod(rank - root, world);
    }

    /** Whether this rank sends step 0 from the start. */
    boolean sendsFirst() {
        return totalSteps > 0 && (kind != OpKind.BROADCAST || rank == root);
    }

    int sendSegment(int step) {
        return segmentOf(rank, step);
    }

    int recvSegment(int step) {
        return segmentOf(rank - 1, step);
    }

    /** The segment rank {@code r} sends at {@code step}. */
    private int segmentOf(int r, int step) {
        return switch (kind) {
            case BROADCAST -> 0;
            case ALL_GATHER -> Math.floorMod(r - step, world);
            case ALL_REDUCE, REDUCE_SCATTER -> step < world - 1
                    ? Math.floorMod(r - step - 1, world)
                    : Math.floorMod(r - (step - (world - 1)), world);
        };
    }

    /** Whether what arrives at {@code step} is added (reduce-scatter half) rather than copied. */
    boolean reduces(int step) {
        return (kind == OpKind.ALL_REDUCE || kind == OpKind.REDUCE_SCATTER) && step < world - 1;
    }

    /** Whether the piece received at {@code step} is final for an average: the last reduce-scatter step. */
    boolean completesReduction(int step) {
        return reduces(step) && step == world - 2;
    }

    /** Whether this rank receives anything at {@code step}. */
    boolean receivesAt(int step) {
        if (step < 0 || step >= totalSteps) {
            return false;
        }
        return kind != OpKind.BROADCAST || (rank != root && step == distance() - 1);
    }

    int segStart(int segment) {
        return kind == OpKind.BROADCAST ? 0 : Partition.start(length, world, segment);
    }

    int segLength(int segment) {
        return kind == OpKind.BROADCAST ? length : Partition.size(length, world, segment);
    }

    /** Element index in {@link #data} of {@code piece} of {@code segment}. */
    int pieceStart(int segment, int piece) {
        return offset + segStart(segment) + piece * chunkFloats;
    }

    int pieceLength(int segment, int piece) {
        return Math.min(chunkFloats, segLength(segment) - piece * chunkFloats);
    }

    /** Marks (step, piece) received; false when it had been received before. */
    boolean markSeen(int step, int piece) {
        int bit = step * maxPieces + piece;
        if (seen.get(bit)) {
            return false;
        }
        seen.set(bit);
        return true;
    }

    /** A receiver thread may write into {@link #mem}: false once the operation is sealed. */
    boolean enterWriter() {
        writers.incrementAndGet();
        if (sealed) {
            writers.decrementAndGet();
            return false;
        }
        return true;
    }

    void exitWriter() {
        writers.decrementAndGet();
    }

    boolean complete() {
        return !starting && received == expected && outstandingWrites == 0;
    }
}
