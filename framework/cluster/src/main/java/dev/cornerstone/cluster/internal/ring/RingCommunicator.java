package dev.cornerstone.cluster.internal.ring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.json.JsonObject;

import dev.cornerstone.cluster.collective.CollectiveException;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.ReduceOp;

/**
 * A rank of a ring over the Vert.x event bus. Each rank consumes at
 * {@code cornerstone.rank.<job>.<rank>} and sends only to its successor; every operation's
 * state lives on one event-loop context, so none of it is locked. See {@link RingOp} for
 * the schedule.
 *
 * <p>Creating a communicator is a handshake: the rank registers its consumer, says hello to
 * its successor (retrying until the successor has registered) and waits for its
 * predecessor's hello. Both hellos check that the ranks agree on world size, generation and
 * chunk size. After it, no message can reach a rank that has not registered.
 */
public final class RingCommunicator implements Communicator {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.collective");
    private static final long HELLO_RETRY_MILLIS = 100;

    private final Vertx vertx;
    private final Context context;
    private final String job;
    private final int rank;
    private final int world;
    private final CollectiveOptions options;
    private final int chunkFloats;
    private final String nodeId;
    private final String nextAddress;

    // Confined to the context's thread:
    private MessageConsumer<Object> consumer;
    private MessageProducer<Chunk> toNext;
    private final Map<Long, RingOp> ops = new HashMap<>();
    private final Map<Long, List<Chunk>> early = new HashMap<>();
    private long nextToStart;
    private float[] scratch;
    private Promise<Void> prevHello;
    private String prevNode = "?";
    private String nextNode = "?";

    private long nextSeq; // guarded by this
    private volatile CollectiveException broken;
    private volatile boolean closed;

    private RingCommunicator(Vertx vertx, Context context, String job, int rank, int world, CollectiveOptions options,
                             String nodeId) {
        this.vertx = vertx;
        this.context = context;
        this.job = job;
        this.rank = rank;
        this.world = world;
        this.options = options;
        this.chunkFloats = options.chunkBytes() / Float.BYTES;
        this.nodeId = nodeId;
        this.nextAddress = address(job, (rank + 1) % world);
    }

    /** The event-bus address of {@code rank} of {@code job}. */
    public static String address(String job, int rank) {
        return "cornerstone.rank." + job + "." + rank;
    }

    /**
     * Joins the ring as {@code rank} of {@code world}; completes once both neighbours are
     * there, or fails after {@code options.connectTimeout()} naming the one that is not.
     * {@code nodeId} names this node in messages (may be null).
     */
    public static CompletableFuture<Communicator> create(Vertx vertx, String job, int rank, int world,
                                                         CollectiveOptions options, String nodeId) {
        Objects.requireNonNull(vertx, "vertx");
        Objects.requireNonNull(options, "options");
        if (job == null || job.isBlank() || !job.matches("[A-Za-z0-9_.:-]+")) {
            throw new IllegalArgumentException("job id '" + job + "' must be letters, digits and _ . : - only");
        }
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank " + rank + " is not in a world of " + world);
        }
        ChunkCodec.registerOn(vertx.eventBus());
        // A context of its own: an event-loop thread that runs this rank's operations.
        Context ctx = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
        RingCommunicator c = new RingCommunicator(vertx, ctx, job, rank, world, options, nodeId);
        ctx.exceptionHandler(t -> {
            LOG.log(Level.SEVERE, c.who() + ": internal error", t);
            c.fail(new CollectiveException(c.who() + ": internal error: " + t, -1, t), true);
        });
        CompletableFuture<Communicator> result = new CompletableFuture<>();
        ctx.runOnContext(v -> c.connect(result));
        return result;
    }

    // ---- handshake ------------------------------------------------------------------------

    private void connect(CompletableFuture<Communicator> result) {
        EventBus bus = vertx.eventBus();
        scratch = new float[chunkFloats];
        prevHello = Promise.promise();
        consumer = bus.consumer(address(job, rank));
        consumer.handler(this::onMessage);
        toNext = bus.sender(nextAddress, new DeliveryOptions().setCodecName(ChunkCodec.NAME));
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        consumer.completion().onComplete(reg -> {
            if (reg.failed()) {
                result.completeExceptionally(new CollectiveException(who() + ": cannot register "
                        + address(job, rank) + ": " + reg.cause(), -1, reg.cause()));
                return;
            }
            if (world == 1) {
                result.complete(this);
                return;
            }
            Promise<Void> nextHello = Promise.promise();
            helloNext(nextHello, deadline);
            long timer = vertx.setTimer(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), id -> {
                List<String> missing = new ArrayList<>();
                int peer = -1;
                if (!nextHello.future().isComplete()) {
                    missing.add("rank " + next() + " (" + nextAddress + ") did not answer");
                    peer = next();
                }
                if (!prevHello.future().isComplete()) {
                    missing.add("rank " + prev() + " (" + address(job, prev()) + ") did not say hello");
                    peer = peer < 0 ? prev() : peer;
                }
                CollectiveException e = new CollectiveException(who() + ": no ring within "
                        + seconds(options.connectTimeout()) + " s: " + String.join("; ", missing), peer);
                nextHello.tryFail(e);
                prevHello.tryFail(e);
            });
            io.vertx.core.Future.all(nextHello.future(), prevHello.future()).onComplete(ar -> {
                vertx.cancelTimer(timer);
                if (ar.succeeded()) {
                    LOG.fine(() -> who() + ": ring formed (prev on node " + prevNode + ", next on node " + nextNode
                            + ")");
                    result.complete(this);
                } else {
                    CollectiveException e = ar.cause() instanceof CollectiveException ce ? ce
                            : new CollectiveException(who() + ": " + ar.cause().getMessage(), -1, ar.cause());
                    close();
                    result.completeExceptionally(e);
                }
            });
        });
    }

    private JsonObject hello() {
        return new JsonObject().put("type", "hello").put("job", job).put("rank", rank).put("world", world)
                .put("generation", options.generation()).put("chunkBytes", options.chunkBytes())
                .put("node", nodeId);
    }

    /** Says hello to the successor until it answers (it may not have registered yet) or the deadline passes. */
    private void helloNext(Promise<Void> done, long deadline) {
        if (closed) {
            done.tryFail(new CollectiveException(who() + ": closed while connecting", -1));
            return;
        }
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || done.future().isComplete()) {
            return; // the connect timer reports what is missing
        }
        vertx.eventBus().<JsonObject>request(nextAddress, hello(),
                new DeliveryOptions().setSendTimeout(Math.min(2_000, left))).onComplete(ar -> {
                    if (ar.succeeded()) {
                        String problem = mismatch(ar.result().body(), next());
                        if (problem != null) {
                            done.tryFail(new CollectiveException(who() + ": " + problem, next()));
                        } else {
                            nextNode = nodeOf(ar.result().body());
                            done.tryComplete();
                        }
                    } else if (ar.cause() instanceof io.vertx.core.eventbus.ReplyException re
                            && re.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
                        done.tryFail(new CollectiveException(who() + ": rank " + next() + " refused: " + re.getMessage(),
                                next()));
                    } else {
                        vertx.setTimer(HELLO_RETRY_MILLIS, id -> helloNext(done, deadline));
                    }
                });
    }

    /** Why a peer's hello does not fit this rank; null when it does. */
    private String mismatch(JsonObject h, int expectedRank) {
        if (!"hello".equals(h.getString("type")) || !job.equals(h.getString("job"))) {
            return "unexpected hello " + h.encode();
        }
        if (h.getInteger("rank", -1) != expectedRank) {
            return "rank " + h.getInteger("rank") + " answered where rank " + expectedRank + " was expected";
        }
        if (h.getInteger("world", -1) != world) {
            return "rank " + expectedRank + " has a world of " + h.getInteger("world") + " ranks, this rank " + world;
        }
        if (h.getLong("generation", -1L) != options.generation()) {
            return "rank " + expectedRank + " is at generation " + h.getLong("generation") + ", this rank at "
                    + options.generation();
        }
        if (h.getInteger("chunkBytes", -1) != options.chunkBytes()) {
            return "rank " + expectedRank + " uses chunks of " + h.getInteger("chunkBytes") + " bytes, this rank "
                    + options.chunkBytes();
        }
        return null;
    }

    private void onMessage(Message<Object> m) {
        Object body;
        try {
            body = m.body();
        } catch (RuntimeException e) {
            fail(new CollectiveException(who() + ": undecodable message on " + m.address() + ": " + e.getMessage(), -1,
                    e), true);
            return;
        }
        if (body instanceof Chunk c) {
            onChunk(c);
        } else if (body instanceof JsonObject h && "abort".equals(h.getString("type"))) {
            onAbort(h);
        } else if (body instanceof JsonObject h) {
            int from = h.getInteger("rank", -1);
            String problem = mismatch(h, from == prev() ? prev() : from);
            if (problem == null && from != prev()) {
                problem = "hello from rank " + from + " where only rank " + prev() + " sends to rank " + rank;
            }
            if (problem != null) {
                m.fail(409, problem);
                prevHello.tryFail(new CollectiveException(who() + ": " + problem, from));
                return;
            }
            prevNode = nodeOf(h);
            m.reply(hello());
            prevHello.tryComplete();
        } else {
            LOG.warning(who() + ": ignored a message of type " + (body == null ? "null" : body.getClass().getName()));
        }
    }

    private static String nodeOf(JsonObject hello) {
        String n = hello.getString("node");
        return n == null ? "?" : n;
    }

    /** Another rank failed and said so: this rank fails too, at once, instead of at its timeout. */
    private void onAbort(JsonObject h) {
        if (h.getLong("generation", -1L) != options.generation() || !job.equals(h.getString("job"))) {
            return;
        }
        int from = h.getInteger("rank", -1);
        CollectiveException e = new CollectiveException(who() + ": rank " + from + " failed: " + h.getString("reason"),
                from);
        if (prevHello != null) {
            prevHello.tryFail(e);
        }
        fail(e, false);
    }

    /** Tells every other rank that this one failed (delivery is best effort: a rank that is gone gets nothing). */
    private void tellOthers(CollectiveException e) {
        JsonObject abort = new JsonObject().put("type", "abort").put("job", job).put("rank", rank)
                .put("generation", options.generation()).put("reason", e.getMessage());
        for (int r = 0; r < world; r++) {
            if (r != rank) {
                vertx.eventBus().send(address(job, r), abort);
            }
        }
    }

    // ---- operations -----------------------------------------------------------------------

    @Override
    public CompletableFuture<Void> allReduce(float[] data, int offset, int length, ReduceOp op) {
        return submit(OpKind.ALL_REDUCE, Objects.requireNonNull(op, "op"), -1, data, offset, length);
    }

    @Override
    public CompletableFuture<Void> reduceScatter(float[] data, int offset, int length, ReduceOp op) {
        return submit(OpKind.REDUCE_SCATTER, Objects.requireNonNull(op, "op"), -1, data, offset, length);
    }

    @Override
    public CompletableFuture<Void> allGather(float[] data, int offset, int length) {
        return submit(OpKind.ALL_GATHER, ReduceOp.SUM, -1, data, offset, length);
    }

    @Override
    public CompletableFuture<Void> broadcast(float[] data, int offset, int length, int root) {
        if (root < 0 || root >= world) {
            throw new IllegalArgumentException("broadcast root " + root + " is not a rank of a world of " + world);
        }
        return submit(OpKind.BROADCAST, ReduceOp.SUM, root, data, offset, length);
    }

    private CompletableFuture<Void> submit(OpKind kind, ReduceOp reduce, int root, float[] data, int offset,
                                           int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (this) {
            long seq = nextSeq++;
            RingOp op = new RingOp(seq, kind, reduce, root, data, offset, length, rank, world, chunkFloats, f);
            context.runOnContext(v -> start(op));
        }
        return f;
    }

    private void start(RingOp op) {
        nextToStart = op.seq + 1;
        if (broken != null) {
            op.future.completeExceptionally(new CollectiveException(describe(op) + " not started: "
                    + broken.getMessage(), broken.peerRank(), broken));
            return;
        }
        if (closed) {
            op.future.completeExceptionally(new CollectiveException(describe(op) + ": communicator closed", -1));
            return;
        }
        if (op.totalSteps == 0) {
            op.finished = true;
            op.future.complete(null);
            return;
        }
        ops.put(op.seq, op);
        op.timer = vertx.setTimer(options.timeout().toMillis(), id -> onTimeout(op));
        if (op.sendsFirst()) {
            // A write may complete inside send(): the operation must not complete (and hand
            // the array back to the caller) before every piece of step 0 has been written.
            op.starting = true;
            int seg = op.sendSegment(0);
            int pieces = op.pieces(op.segLength(seg));
            for (int p = 0; p < pieces && !op.finished; p++) {
                send(op, 0, seg, p);
            }
            op.starting = false;
        }
        List<Chunk> waiting = early.remove(op.seq);
        if (waiting != null) {
            for (Chunk c : waiting) {
                if (op.finished) {
                    break;
                }
                accept(op, c);
            }
        }
        maybeComplete(op);
    }

    private void send(RingOp op, int step, int segment, int piece) {
        int from = op.pieceStart(segment, piece);
        int count = op.pieceLength(segment, piece);
        Chunk c = Chunk.outgoing(options.generation(), op.seq, op.kind.code, op.length, step, piece, rank, op.data,
                from, count);
        op.outstandingWrites++;
        op.writesStarted++;
        toNext.write(c).onComplete(ar -> {
            op.outstandingWrites--;
            if (op.finished) {
                return;
            }
            if (ar.failed()) {
                fail(op, describe(op) + ": sending step " + step + " piece " + piece + " to rank " + next() + " ("
                        + nextAddress + (nextNode.equals("?") ? "" : ", node " + nextNode) + ") failed: "
                        + ar.cause().getMessage(), next(), ar.cause());
            } else {
                op.writesDone++;
                maybeComplete(op);
            }
        });
    }

    private void onChunk(Chunk c) {
        if (c.generation != options.generation()) {
            LOG.fine(() -> who() + ": dropped a chunk of generation " + c.generation);
            return;
        }
        if (broken != null || closed) {
            return;
        }
        RingOp op = ops.get(c.op);
        if (op != null) {
            accept(op, c);
        } else if (c.op >= nextToStart) {
            early.computeIfAbsent(c.op, k -> new ArrayList<>()).add(c); // the predecessor is ahead of this rank
        } else {
            fail(new CollectiveException(who() + ": rank " + c.sender + " sent step " + c.step + " of operation #"
                    + c.op + ", which is over on this rank: the ranks do not call the same collectives in the "
                    + "same order", c.sender), true);
        }
    }

    private void accept(RingOp op, Chunk c) {
        String problem = null;
        if (c.kind != op.kind.code || c.opLength != op.length) {
            OpKind k = OpKind.of(c.kind);
            problem = "rank " + c.sender + " sent " + (k == null ? "kind " + c.kind : k.label) + " of " + c.opLength
                    + " floats as operation #" + op.seq + ", where this rank called " + op.kind.label + " of "
                    + op.length + " floats: every rank must call the same collectives in the same order";
        } else if (c.sender != prev()) {
            problem = "rank " + c.sender + " sent to rank " + rank + ", whose predecessor is rank " + prev();
        } else if (!op.receivesAt(c.step)) {
            problem = "unexpected step " + c.step + " from rank " + c.sender;
        } else {
            int seg = op.recvSegment(c.step);
            if (c.piece < 0 || c.piece >= op.pieces(op.segLength(seg)) || c.count != op.pieceLength(seg, c.piece)) {
                problem = "rank " + c.sender + " sent piece " + c.piece + " of " + c.count + " floats at step "
                        + c.step + ", which does not fit segment " + seg + " (are the chunk sizes equal?)";
            } else if (!op.markSeen(c.step, c.piece)) {
                problem = "rank " + c.sender + " sent piece " + c.piece + " of step " + c.step + " twice";
            }
        }
        if (problem != null) {
            fail(op, describe(op) + ": " + problem, c.sender, null);
            return;
        }
        int seg = op.recvSegment(c.step);
        int at = op.pieceStart(seg, c.piece);
        if (op.reduces(c.step)) {
            c.addInto(op.data, at, scratch);
            if (op.reduce == ReduceOp.AVG && op.completesReduction(c.step)) {
                float inv = 1f / world;
                float[] d = op.data;
                for (int i = at, end = at + c.count; i < end; i++) {
                    d[i] *= inv;
                }
            }
        } else {
            c.copyInto(op.data, at);
        }
        op.received++;
        if (c.step + 1 < op.totalSteps) {
            send(op, c.step + 1, seg, c.piece);
        }
        maybeComplete(op);
    }

    private void maybeComplete(RingOp op) {
        if (!op.finished && op.complete()) {
            op.finished = true;
            vertx.cancelTimer(op.timer);
            ops.remove(op.seq);
            op.future.complete(null);
        }
    }

    private void onTimeout(RingOp op) {
        if (op.finished) {
            return;
        }
        String waiting;
        int peer;
        if (op.received < op.expected) {
            peer = prev();
            waiting = "received " + op.received + " of " + op.expected + " chunks from rank " + prev() + " ("
                    + address(job, prev()) + (prevNode.equals("?") ? "" : ", node " + prevNode) + ")"
                    + (world > 2 ? "; that rank may itself be waiting for one further up the ring" : "");
        } else {
            peer = next();
            waiting = "all " + op.expected + " chunks received, but " + op.outstandingWrites + " of "
                    + op.writesStarted + " chunks to rank " + next() + " (" + nextAddress + ") not written";
        }
        // Not told to the other ranks: each times out by itself and names the peer it waits for.
        CollectiveException e = new CollectiveException(describe(op) + " timed out after " + seconds(options.timeout())
                + " s: " + waiting, peer);
        failOne(op, e);
        fail(e, false);
    }

    /** Fails {@code op} and, as the ring is now broken, every other operation. */
    private void fail(RingOp op, String message, int peer, Throwable cause) {
        CollectiveException e = cause == null ? new CollectiveException(message, peer)
                : new CollectiveException(message, peer, cause);
        failOne(op, e);
        fail(e, true);
    }

    /** Breaks the ring: every operation in flight fails; {@code tell}: let the other ranks know. */
    private void fail(CollectiveException e, boolean tell) {
        if (broken == null) {
            broken = e;
            LOG.log(Level.WARNING, e.getMessage());
            if (tell && world > 1 && !closed) {
                tellOthers(e);
            }
        }
        for (RingOp other : new ArrayList<>(ops.values())) {
            failOne(other, new CollectiveException(describe(other) + " abandoned: " + e.getMessage(), e.peerRank(), e));
        }
        ops.clear();
        early.clear();
    }

    private void failOne(RingOp op, CollectiveException e) {
        if (!op.finished) {
            op.finished = true;
            vertx.cancelTimer(op.timer);
            ops.remove(op.seq);
            op.future.completeExceptionally(e);
        }
    }

    @Override
    public void abort(String reason) {
        context.runOnContext(v -> {
            if (prevHello != null) {
                prevHello.tryFail(new CollectiveException(who() + ": " + reason, -1));
            }
            fail(new CollectiveException(who() + ": " + reason, -1), true);
        });
    }

    /**
     * Fails everything because the node running {@code peerRank} is gone; called by the
     * cluster runtime on a membership event.
     */
    public void peerLost(int peerRank, String detail) {
        context.runOnContext(v -> {
            CollectiveException e = new CollectiveException(who() + ": rank " + peerRank + " " + detail, peerRank);
            if (prevHello != null) {
                prevHello.tryFail(e);
            }
            fail(e, true);
        });
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.runOnContext(v -> {
            fail(new CollectiveException(who() + ": communicator closed", -1), false);
            if (consumer != null) {
                consumer.unregister();
            }
            if (toNext != null) {
                toNext.close();
            }
        });
    }

    // ---- names ----------------------------------------------------------------------------

    @Override
    public String job() {
        return job;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    @Override
    public long generation() {
        return options.generation();
    }

    private int prev() {
        return Math.floorMod(rank - 1, world);
    }

    private int next() {
        return (rank + 1) % world;
    }

    private String who() {
        return "job '" + job + "' rank " + rank + " of " + world + " (generation " + options.generation() + ")";
    }

    private String describe(RingOp op) {
        return op.kind.label + " #" + op.seq + " of " + String.format("%,d", op.length) + " floats"
                + (op.kind == OpKind.BROADCAST ? " from rank " + op.root : "") + " on " + who();
    }

    private static String seconds(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? String.valueOf(d.toSeconds()) : String.valueOf(d.toMillis() / 1000.0);
    }

    @Override
    public String toString() {
        return "RingCommunicator[" + who() + "]";
    }
}
