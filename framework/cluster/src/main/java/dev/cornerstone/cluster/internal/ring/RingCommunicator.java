package dev.cornerstone.cluster.internal.ring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;

import dev.cornerstone.cluster.collective.CollectiveException;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.CollectiveOptions.Transport;
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
 *
 * <p>Chunks travel either as event-bus messages or, with the {@code STREAM} transport, as
 * frames on one Vert.x TCP connection from each rank to its successor: the successor's hello
 * answer carries the address of a server it opened for this ring and a random token the
 * connecting rank must send first. Hellos, aborts and addresses stay on the event bus.
 */
public final class RingCommunicator implements Communicator {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.collective");
    private static final long HELLO_RETRY_MILLIS = 100;
    private static final int STREAM_READ_BYTES = 256 << 10;

    private final Vertx vertx;
    private final Context context;
    private final String job;
    private final int rank;
    private final int world;
    private final CollectiveOptions options;
    private final int chunkFloats;
    private final String nodeId;
    private final String nextAddress;
    /** Address the STREAM server binds to: this node's event-bus host. */
    private final String host;
    private final long token = new java.security.SecureRandom().nextLong();

    // Confined to the context's thread:
    private MessageConsumer<Object> consumer;
    private MessageProducer<Chunk> toNext;
    /** Operations started and not finished; concurrent only so that SOCKET's receiver may look one up (route). */
    private final Map<Long, RingOp> ops = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Long, List<Chunk>> early = new HashMap<>();
    private long nextToStart;
    private Promise<Void> prevHello;
    private String prevNode = "?";
    private String nextNode = "?";
    private NetServer dataServer;
    private NetClient dataClient;
    private volatile NetSocketInternal outSocket; // set on the writer event loop
    private NetSocketInternal inSocket;
    private StreamReceiver receiver;
    /** The SOCKET transport's connections and threads. */
    private SocketLink link;
    /** Frames (SOCKET) that arrived before their operation started. */
    private final Map<Long, List<SocketLink.Frame>> earlyFrames = new HashMap<>();
    /** For the reduce-scatter's adds (SOCKET), on this rank's event loop. */
    /** Set when a neighbour's stream closed while no operation needed it. */
    private CollectiveException nextGone;
    private CollectiveException prevGone;
    /** Arrays that held chunks arriving before their operation started, for the next such chunks. */
    private final java.util.ArrayDeque<float[]> spare = new java.util.ArrayDeque<>();

    private long nextSeq; // guarded by this
    private volatile CollectiveException broken;
    private volatile boolean closed;

    private RingCommunicator(Vertx vertx, Context context, String job, int rank, int world, CollectiveOptions options,
                             String nodeId, String host) {
        this.vertx = vertx;
        this.context = context;
        this.job = job;
        this.rank = rank;
        this.world = world;
        this.options = options;
        this.chunkFloats = options.chunkBytes() / Float.BYTES;
        this.nodeId = nodeId;
        this.nextAddress = address(job, (rank + 1) % world);
        this.host = host;
    }

    /** The event-bus address of {@code rank} of {@code job}. */
    public static String address(String job, int rank) {
        return "cornerstone.rank." + job + "." + rank;
    }

    /**
     * Joins the ring as {@code rank} of {@code world}; completes once both neighbours are
     * there, or fails after {@code options.connectTimeout()} naming the one that is not.
     * {@code nodeId} names this node in messages (may be null); {@code host} is the address
     * this rank's STREAM server binds to and its predecessor connects to.
     */
    public static CompletableFuture<Communicator> create(Vertx vertx, String job, int rank, int world,
                                                         CollectiveOptions options, String nodeId, String host) {
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
        RingCommunicator c = new RingCommunicator(vertx, ctx, job, rank, world, options, nodeId,
                Objects.requireNonNull(host, "host"));
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
        prevHello = Promise.promise();
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        // The stream server is up before the consumer registers: the hello answer names it.
        Future<Void> server = world == 1 ? Future.succeededFuture()
                : options.transport() == Transport.STREAM ? startServer()
                : options.transport().usesLink() ? startSocketServer()
                : Future.succeededFuture();
        server.onComplete(ar -> {
            if (ar.failed()) {
                CollectiveException e = new CollectiveException(who() + ": cannot open a stream server on " + host
                        + ": " + ar.cause().getMessage(), -1, ar.cause());
                close();
                result.completeExceptionally(e);
                return;
            }
            EventBus bus = vertx.eventBus();
            consumer = bus.consumer(address(job, rank));
            consumer.handler(this::onMessage);
            toNext = bus.sender(nextAddress, new DeliveryOptions().setCodecName(ChunkCodec.NAME));
            consumer.completion().onComplete(reg -> {
                if (reg.failed()) {
                    close();
                    result.completeExceptionally(new CollectiveException(who() + ": cannot register "
                            + address(job, rank) + ": " + reg.cause(), -1, reg.cause()));
                } else if (world == 1) {
                    result.complete(this);
                } else {
                    handshake(result, deadline);
                }
            });
        });
    }

    private void handshake(CompletableFuture<Communicator> result, long deadline) {
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
    }

    private JsonObject hello() {
        JsonObject h = new JsonObject().put("type", "hello").put("job", job).put("rank", rank).put("world", world)
                .put("generation", options.generation()).put("chunkBytes", options.chunkBytes())
                .put("transport", options.transport().name()).put("node", nodeId);
        if (dataServer != null) {
            h.put("dataHost", host).put("dataPort", dataServer.actualPort()).put("token", token);
        } else if (linkPort > 0) {
            h.put("dataHost", host).put("dataPort", linkPort).put("token", token);
            if (link.sharedFile() != null) {
                h.put("dataShm", link.sharedFile());
            }
        }
        return h;
    }

    // ---- STREAM transport -------------------------------------------------------------------

    /** The server this rank's predecessor streams to; only a connection that sends the token first is kept. */
    private Future<Void> startServer() {
        receiver = new StreamReceiver(new Sink());
        // Reads of up to 256 KiB (Vert.x then reads into fixed-size buffers): fewer, larger reads
        // than Netty's adaptive default of at most 64 KiB, measured faster for chunk streams.
        dataServer = vertx.createNetServer(new NetServerOptions().setHost(host).setPort(0).setTcpNoDelay(true)
                .setReceiveBufferSize(STREAM_READ_BYTES));
        dataServer.connectHandler(socket -> {
            NetSocketInternal s = (NetSocketInternal) socket;
            byte[] preamble = new byte[Long.BYTES];
            int[] fill = {0};
            s.messageHandler(msg -> {
                ByteBuf buf = (ByteBuf) msg;
                try {
                    if (fill[0] < preamble.length) {
                        int n = Math.min(buf.readableBytes(), preamble.length - fill[0]);
                        buf.readBytes(preamble, fill[0], n);
                        fill[0] += n;
                        if (fill[0] < preamble.length) {
                            return;
                        }
                        if (java.nio.ByteBuffer.wrap(preamble).getLong() != token || inSocket != null) {
                            LOG.warning(who() + ": refused a stream connection from " + s.remoteAddress()
                                    + " (wrong token, or the predecessor is connected already)");
                            s.close();
                            return;
                        }
                        inSocket = s;
                        s.closeHandler(v -> {
                            if (!closed && inSocket == s) {
                                streamClosed("the stream from rank " + prev() + " (" + address(job, prev())
                                        + (prevNode.equals("?") ? "" : ", node " + prevNode) + ") closed", prev(), false);
                            }
                        });
                    }
                    if (inSocket == s) {
                        receiver.feed(buf);
                    }
                } catch (RuntimeException e) {
                    fail(new CollectiveException(who() + ": bad stream from rank " + prev() + ": " + e.getMessage(),
                            prev(), e), true);
                    s.close();
                } finally {
                    buf.release();
                }
            });
        });
        return dataServer.listen().mapEmpty();
    }

    // ---- SOCKET transport -------------------------------------------------------------------

    /** The port of the SOCKET transport's server; 0 before it is open. */
    private int linkPort;

    /** Opens the server this rank's predecessor connects to (SOCKET); the link's events come back on this context. */
    private Future<Void> startSocketServer() {
        link = new SocketLink("cornerstone-ring-" + job + "-" + rank, options.chunkBytes(),
                options.transport() == Transport.SHARED_MEMORY, new LinkEvents());
        try {
            linkPort = link.listen(host, token, (int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()));
            return Future.succeededFuture();
        } catch (java.io.IOException | RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /** The successor's data server and token, from its hello answer. */
    private record DataPeer(String host, int port, long token, String sharedFile) {
        /** Null when the answer offers no data server. */
        static DataPeer of(JsonObject reply) {
            String host = reply.getString("dataHost");
            Integer port = reply.getInteger("dataPort");
            Long token = reply.getLong("token");
            return host == null || port == null || token == null ? null
                    : new DataPeer(host, port, token, reply.getString("dataShm"));
        }
    }

    /** Connects (blocking, on a worker thread) to the successor's SOCKET server and sends its token. */
    private Future<Void> connectSocket(JsonObject reply) {
        DataPeer peer = DataPeer.of(reply);
        if (peer == null) {
            return Future.failedFuture(new CollectiveException(who() + ": rank " + next()
                    + " did not offer a stream (is it an older Cornerstone?)", next()));
        }
        String dataHost = peer.host();
        int dataPort = peer.port();
        long peerToken = peer.token();
        String sharedFile = peer.sharedFile();
        if (options.transport() == Transport.SHARED_MEMORY && sharedFile == null) {
            return Future.failedFuture(new CollectiveException(who() + ": rank " + next()
                    + " offered no shared-memory file", next()));
        }
        int timeout = (int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis());
        return vertx.<Void>executeBlocking(() -> {
            link.connect(dataHost, dataPort, peerToken, timeout, sharedFile);
            return null;
        }, false).recover(e -> Future.failedFuture(new CollectiveException(who()
                + ": cannot connect the stream to rank " + next() + " at " + dataHost + ":" + dataPort + ": "
                + e.getMessage(), next(), e)));
    }

    /** The link's threads report here; everything they report is handled on this rank's event loop. */
    private final class LinkEvents implements SocketLink.Events {
        @Override
        public void received(SocketLink.Frame frame) {
            context.runOnContext(v -> onFrame(frame));
        }

        @Override
        public SocketLink.Route route(Chunk h) {
            if (h.generation != options.generation() || broken != null || closed) {
                return null;
            }
            RingOp op = ops.get(h.op);
            // Adds of any operand, copies (all-gather, broadcast) of an off-heap one, and only
            // frames that fit the operation (the same checks as on the event loop, but for
            // duplicates, which the event loop still fails on).
            if (op == null || (op.mem == null && !op.reduces(h.step)) || mismatch(op, h) != null
                    || !op.enterWriter()) {
                return null;
            }
            int at = op.pieceStart(op.recvSegment(h.step), h.piece);
            if (op.reduces(h.step)) {
                return SocketLink.Route.add(op, at, scale(op, h.step), keep(op, h.step), h.step + 1 < op.totalSteps);
            }
            return SocketLink.Route.copy(op, op.mem.asSlice((long) at * Float.BYTES, (long) h.count * Float.BYTES));
        }

        @Override
        public void inboundEnded(String reason, boolean badStream) {
            onContext(() -> {
                if (closed) {
                    return;
                }
                if (badStream) {
                    fail(new CollectiveException(who() + ": bad stream from rank " + prev() + ": " + reason, prev()),
                            true);
                } else {
                    streamClosed("the stream from rank " + prev() + " (" + address(job, prev())
                            + (prevNode.equals("?") ? "" : ", node " + prevNode) + ") " + reason, prev(), false);
                }
            });
        }

        @Override
        public void written(RingOp op, int step, int piece, java.io.IOException failure) {
            context.runOnContext(v -> {
                op.outstandingWrites--;
                if (op.finished) {
                    return;
                }
                if (failure != null) {
                    fail(op, describe(op) + ": sending step " + step + " piece " + piece + " to rank " + next() + " ("
                            + nextAddress + (nextNode.equals("?") ? "" : ", node " + nextNode) + ") failed: "
                            + failure.getMessage(), next(), failure);
                } else {
                    op.writesDone++;
                    maybeComplete(op);
                }
            });
        }

        @Override
        public void outboundEnded(String reason) {
            onContext(() -> {
                if (!closed) {
                    streamClosed("the stream to rank " + next() + " (" + nextAddress
                            + (nextNode.equals("?") ? "" : ", node " + nextNode) + ") " + reason, next(), true);
                }
            });
        }
    }

    /** A whole frame from the predecessor (SOCKET): into its operation, or kept until the operation starts. */
    private void onFrame(SocketLink.Frame f) {
        link.processed();
        Chunk h = f.header;
        if ((f.direct || f.added) && !ops.containsKey(h.op)) { // its operation failed meanwhile
            link.release(f);
            return;
        }
        if (h.generation != options.generation()) {
            LOG.fine(() -> who() + ": dropped a chunk of generation " + h.generation);
            link.release(f);
            return;
        }
        if (broken != null || closed) {
            link.release(f);
            return;
        }
        RingOp op = ops.get(h.op);
        if (op != null) {
            acceptFrame(op, f);
        } else if (h.op >= nextToStart) {
            earlyFrames.computeIfAbsent(h.op, k -> new ArrayList<>()).add(f); // the predecessor is ahead
        } else {
            link.release(f);
            fail(new CollectiveException(who() + ": rank " + h.sender + " sent step " + h.step + " of operation #"
                    + h.op + ", which is over on this rank: the ranks do not call the same collectives in the "
                    + "same order", h.sender), true);
        }
    }

    /**
     * Adds or copies a frame's floats into place and, if the schedule sends the piece on at the
     * next step, sends this very frame on (the sum written back into it, the header rewritten).
     */
    private void acceptFrame(RingOp op, SocketLink.Frame f) {
        Chunk h = f.header;
        String problem = check(op, h);
        if (problem != null) {
            link.release(f);
            fail(op, describe(op) + ": " + problem, h.sender, null);
            return;
        }
        int at = op.pieceStart(op.recvSegment(h.step), h.piece);
        boolean forward = h.step + 1 < op.totalSteps;
        if (f.added) {
            // Added as it arrived (the receiver thread): the sum is in the frame and, if kept, in the operand.
            passOn(op, f, h, forward);
            return;
        }
        if (f.direct) {
            // The floats are in place already; the piece goes on from the operand.
            link.release(f);
            op.received++;
            if (forward) {
                op.outstandingWrites++;
                op.writesStarted++;
                link.send(new SocketLink.Encode(op, h.step + 1, h.piece, options.generation(), rank, null, at,
                        h.count));
            }
            maybeComplete(op);
            return;
        }
        if (op.reduces(h.step)) {
            float scale = scale(op, h.step);
            boolean keep = keep(op, h.step);
            if (op.mem != null) {
                LeFloats.add(op.mem, (long) at * Float.BYTES, f.segment, ChunkCodec.HEADER_BYTES, h.count, scale,
                        keep, forward);
            } else {
                LeFloats.add(op.data, at, f.segment, ChunkCodec.HEADER_BYTES, h.count, scale, keep, forward);
            }
        } else if (op.mem != null) {
            java.lang.foreign.MemorySegment.copy(f.segment, ChunkCodec.HEADER_BYTES, op.mem, (long) at * Float.BYTES,
                    (long) h.count * Float.BYTES);
        } else {
            java.lang.foreign.MemorySegment.copy(f.segment, Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES, op.data, at,
                    h.count);
        }
        passOn(op, f, h, forward);
    }

    /** What the received partial sum of {@code step} is multiplied by: 1, or 1 / world where an average completes. */
    private float scale(RingOp op, int step) {
        return op.reduce == ReduceOp.AVG && op.completesReduction(step) ? 1f / world : 1f;
    }

    /** Whether the sum of {@code step} is stored: an all-reduce's partial sums only travel on (the all-gather overwrites them). */
    private static boolean keep(RingOp op, int step) {
        return op.kind != OpKind.ALL_REDUCE || op.completesReduction(step);
    }

    /** A frame whose floats are done with here: counted, then sent on from its own buffer, or released after the last step. */
    private void passOn(RingOp op, SocketLink.Frame f, Chunk h, boolean forward) {
        op.received++;
        if (forward) {
            ChunkFrames.forward(f.buf, h.step + 1, rank);
            sendFrame(op, f, h.step + 1, h.piece, h.count);
        } else {
            link.release(f);
        }
        maybeComplete(op);
    }

    /** Hands a filled frame to the link's sender thread; its completion comes back through {@link LinkEvents}. */
    private void sendFrame(RingOp op, SocketLink.Frame f, int step, int piece, int count) {
        f.op = op;
        f.step = step;
        f.piece = piece;
        op.outstandingWrites++;
        op.writesStarted++;
        link.send(f, count);
    }

    /** Connects to the successor's stream server and sends its token. */
    private Future<Void> connectNext(JsonObject reply) {
        DataPeer peer = DataPeer.of(reply);
        if (peer == null) {
            return Future.failedFuture(new CollectiveException(who() + ": rank " + next()
                    + " did not offer a stream (is it an older Cornerstone?)", next()));
        }
        String dataHost = peer.host();
        int dataPort = peer.port();
        long peerToken = peer.token();
        dataClient = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis())));
        // The outgoing connection lives on an event loop of its own, so the kernel's send work
        // runs beside this rank's receiving and reducing instead of between them.
        Promise<io.vertx.core.net.NetSocket> connected = Promise.promise();
        Context writer = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
        writer.runOnContext(v -> dataClient.connect(dataPort, dataHost).onComplete(connected));
        return connected.future().compose(socket -> {
            NetSocketInternal s = (NetSocketInternal) socket;
            outSocket = s;
            s.closeHandler(v -> onContext(() -> {
                if (!closed && outSocket == s) {
                    streamClosed("the stream to rank " + next() + " (" + nextAddress
                            + (nextNode.equals("?") ? "" : ", node " + nextNode) + ") closed", next(), true);
                }
            }));
            s.messageHandler(msg -> ((ByteBuf) msg).release()); // nothing flows back
            ByteBuf t = s.channelHandlerContext().alloc().buffer(Long.BYTES).writeLong(peerToken);
            return s.writeMessage(t);
        }).recover(e -> Future.failedFuture(e instanceof CollectiveException ? e : new CollectiveException(who()
                + ": cannot connect the stream to rank " + next() + " at " + dataHost + ":" + dataPort + ": "
                + e.getMessage(), next(), e)));
    }

    /** Where the frames of the stream go: into the operation they belong to, or kept until it starts. */
    private final class Sink implements StreamReceiver.Sink {
        @Override
        public StreamReceiver.Target begin(Chunk h) {
            if (h.generation != options.generation() || broken != null || closed) {
                return StreamReceiver.Target.DISCARD;
            }
            RingOp op = ops.get(h.op);
            if (op != null) {
                String problem = check(op, h);
                if (problem != null) {
                    fail(op, describe(op) + ": " + problem, h.sender, null);
                    return StreamReceiver.Target.DISCARD;
                }
                int seg = op.recvSegment(h.step);
                return new StreamReceiver.Target(op.data, op.pieceStart(seg, h.piece), op.reduces(h.step), op);
            }
            if (h.op >= nextToStart && h.count <= chunkFloats) {
                float[] keep = spare.poll(); // the predecessor is ahead: keep the floats until the call
                return new StreamReceiver.Target(keep != null ? keep : new float[chunkFloats], 0, false, null);
            }
            fail(new CollectiveException(who() + ": rank " + h.sender + " sent step " + h.step + " of operation #"
                    + h.op + (h.op < nextToStart ? ", which is over on this rank: the ranks do not call the same "
                    + "collectives in the same order" : " with " + h.count + " floats, more than a chunk holds"),
                    h.sender), true);
            return StreamReceiver.Target.DISCARD;
        }

        @Override
        public void end(Chunk h, StreamReceiver.Target t) {
            if (t.discards()) {
                return;
            }
            if (t.op == null) {
                // Kept aside when its header came; the operation may have started while its floats arrived.
                Chunk c = h.withFloats(t.array);
                RingOp op = ops.get(h.op);
                if (op != null) {
                    accept(op, c);
                    recycle(c);
                } else if (h.op >= nextToStart) {
                    early.computeIfAbsent(h.op, k -> new ArrayList<>()).add(c);
                }
                // else: the operation is over (failed, as it could not complete without this piece)
                return;
            }
            applied(t.op, h.step, h.piece, h.count);
        }
    }

    /** The failure code of a hello that reached a rank still at an earlier generation: try again. */
    static final int NOT_YET = 425;

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
                        if (problem != null && ar.result().body().getLong("generation", -1L) < options.generation()) {
                            vertx.setTimer(HELLO_RETRY_MILLIS, id -> helloNext(done, deadline)); // not there yet
                        } else if (problem != null) {
                            done.tryFail(new CollectiveException(who() + ": " + problem, next()));
                        } else {
                            nextNode = nodeOf(ar.result().body());
                            if (options.transport() != Transport.EVENT_BUS) {
                                (options.transport() == Transport.STREAM ? connectNext(ar.result().body())
                                        : connectSocket(ar.result().body())).onComplete(c -> onContext(() -> {
                                    if (c.succeeded()) {
                                        done.tryComplete();
                                    } else {
                                        done.tryFail(c.cause());
                                    }
                                }));
                            } else {
                                done.tryComplete();
                            }
                        }
                    } else if (ar.cause() instanceof io.vertx.core.eventbus.ReplyException re
                            && re.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE
                            && re.failureCode() != NOT_YET) {
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
        if (!options.transport().name().equals(h.getString("transport"))) {
            return "rank " + expectedRank + " sends chunks by " + h.getString("transport") + ", this rank by "
                    + options.transport();
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
            long theirs = h.getLong("generation", -1L);
            if ("hello".equals(h.getString("type")) && job.equals(h.getString("job")) && from == prev()
                    && theirs != options.generation()) {
                // Ranks take up a new generation one by one: a hello from a later one finds this
                // rank not there yet (the sender tries again, NOT_YET), one from an earlier one
                // comes from a rank that has not left it yet. Neither fails this rank's ring:
                // only the ranks of the current generation decide whether it forms.
                m.fail(theirs > options.generation() ? NOT_YET : 409, "rank " + rank + " is at generation "
                        + options.generation() + ", rank " + from + " at " + theirs);
                return;
            }
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

    // Off-heap operands: the SOCKET transport sends straight from the segment and adds or copies
    // into it; the other transports stage it through an array (Communicator's defaults).

    @Override
    public CompletableFuture<Void> allReduce(java.lang.foreign.MemorySegment data, ReduceOp op) {
        return !options.transport().usesLink() ? Communicator.super.allReduce(data, op)
                : submit(OpKind.ALL_REDUCE, Objects.requireNonNull(op, "op"), -1, data);
    }

    @Override
    public CompletableFuture<Void> reduceScatter(java.lang.foreign.MemorySegment data, ReduceOp op) {
        return !options.transport().usesLink() ? Communicator.super.reduceScatter(data, op)
                : submit(OpKind.REDUCE_SCATTER, Objects.requireNonNull(op, "op"), -1, data);
    }

    @Override
    public CompletableFuture<Void> allGather(java.lang.foreign.MemorySegment data) {
        return !options.transport().usesLink() ? Communicator.super.allGather(data)
                : submit(OpKind.ALL_GATHER, ReduceOp.SUM, -1, data);
    }

    @Override
    public CompletableFuture<Void> broadcast(java.lang.foreign.MemorySegment data, int root) {
        if (root < 0 || root >= world) {
            throw new IllegalArgumentException("broadcast root " + root + " is not a rank of a world of " + world);
        }
        return !options.transport().usesLink() ? Communicator.super.broadcast(data, root)
                : submit(OpKind.BROADCAST, ReduceOp.SUM, root, data);
    }

    /** The floats in an off-heap operand, checked: a whole number of them, usable from the ring's threads. */
    private static int floatsOf(java.lang.foreign.MemorySegment data) {
        Objects.requireNonNull(data, "data");
        long bytes = data.byteSize();
        if (bytes % Float.BYTES != 0 || bytes / Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("data: a segment of " + bytes + " bytes is not a whole number of floats"
                    + " (at most " + Integer.MAX_VALUE + ")");
        }
        // A thread that was never started owns no confined arena.
        if (!data.isAccessibleBy(Thread.ofPlatform().unstarted(() -> { }))) {
            throw new IllegalArgumentException("data: a segment of a confined arena cannot be used by the ring's "
                    + "threads; allocate it from an automatic, shared or global arena");
        }
        return (int) (bytes / Float.BYTES);
    }

    private CompletableFuture<Void> submit(OpKind kind, ReduceOp reduce, int root, java.lang.foreign.MemorySegment data) {
        int length = floatsOf(data);
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (this) {
            long seq = nextSeq++;
            RingOp op = new RingOp(seq, kind, reduce, root, data, length, rank, world, chunkFloats, f);
            context.runOnContext(v -> start(op));
        }
        return f;
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
        if (nextGone != null && op.needsNext()) {
            op.finished = true;
            op.future.completeExceptionally(new CollectiveException(describe(op) + " not started: "
                    + nextGone.getMessage(), nextGone.peerRank(), nextGone));
            fail(nextGone, true);
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
        List<SocketLink.Frame> waitingFrames = earlyFrames.remove(op.seq);
        if (waitingFrames != null) {
            for (SocketLink.Frame f : waitingFrames) {
                if (!op.finished) {
                    acceptFrame(op, f);
                } else {
                    link.release(f);
                }
            }
        }
        List<Chunk> waiting = early.remove(op.seq);
        if (waiting != null) {
            for (Chunk c : waiting) {
                if (!op.finished) {
                    accept(op, c);
                }
                recycle(c);
            }
        }
        // A predecessor that closed may have sent everything before (kept above); only what is
        // still missing makes its closing a failure.
        if (!op.finished && prevGone != null && op.needsPrev()) {
            failOne(op, new CollectiveException(describe(op) + ": " + prevGone.getMessage(), prevGone.peerRank(),
                    prevGone));
            fail(prevGone, true);
            return;
        }
        maybeComplete(op);
    }

    private void send(RingOp op, int step, int segment, int piece) {
        int from = op.pieceStart(segment, piece);
        int count = op.pieceLength(segment, piece);
        if (options.transport().usesLink()) {
            op.outstandingWrites++;
            op.writesStarted++;
            link.send(new SocketLink.Encode(op, step, piece, options.generation(), rank, op.data, from, count));
            return;
        }
        Chunk c = Chunk.outgoing(options.generation(), op.seq, op.kind.code, op.length, step, piece, rank, op.data,
                from, count);
        op.outstandingWrites++;
        op.writesStarted++;
        Future<Void> written = options.transport() == Transport.STREAM
                ? outSocket.writeMessage(ChunkFrames.encode(io.netty.buffer.PooledByteBufAllocator.DEFAULT, c))
                : toNext.write(c);
        // The outgoing stream lives on another event loop: come back to this rank's before touching its state.
        written.onComplete(ar -> onContext(() -> {
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
        }));
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

    /** Why chunk (or frame header) {@code c} does not fit {@code op}; null when it does. Marks it seen. */
    private String check(RingOp op, Chunk c) {
        String problem = mismatch(op, c);
        if (problem != null) {
            return problem;
        }
        if (!op.markSeen(c.step, c.piece)) {
            return "rank " + c.sender + " sent piece " + c.piece + " of step " + c.step + " twice";
        }
        return null;
    }

    /** Why {@code c} does not fit {@code op}, duplicates aside; null when it does. Reads only what never changes. */
    private String mismatch(RingOp op, Chunk c) {
        if (c.kind != op.kind.code || c.opLength != op.length) {
            OpKind k = OpKind.of(c.kind);
            return "rank " + c.sender + " sent " + (k == null ? "kind " + c.kind : k.label) + " of " + c.opLength
                    + " floats as operation #" + op.seq + ", where this rank called " + op.kind.label + " of "
                    + op.length + " floats: every rank must call the same collectives in the same order";
        }
        if (c.sender != prev()) {
            return "rank " + c.sender + " sent to rank " + rank + ", whose predecessor is rank " + prev();
        }
        if (!op.receivesAt(c.step)) {
            return "unexpected step " + c.step + " from rank " + c.sender;
        }
        int seg = op.recvSegment(c.step);
        if (c.piece < 0 || c.piece >= op.pieces(op.segLength(seg)) || c.count != op.pieceLength(seg, c.piece)) {
            return "rank " + c.sender + " sent piece " + c.piece + " of " + c.count + " floats at step " + c.step
                    + ", which does not fit segment " + seg + " (are the chunk sizes equal?)";
        }
        return null;
    }

    private void accept(RingOp op, Chunk c) {
        String problem = check(op, c);
        if (problem != null) {
            fail(op, describe(op) + ": " + problem, c.sender, null);
            return;
        }
        int at = op.pieceStart(op.recvSegment(c.step), c.piece);
        if (op.reduces(c.step)) {
            c.addInto(op.data, at);
        } else {
            c.copyInto(op.data, at);
        }
        applied(op, c.step, c.piece, c.count);
    }

    /** A piece has been added or copied into place: finish an average, forward it, count it. */
    private void applied(RingOp op, int step, int piece, int count) {
        if (op.finished) {
            return;
        }
        int seg = op.recvSegment(step);
        if (op.reduce == ReduceOp.AVG && op.completesReduction(step)) {
            float inv = 1f / world;
            float[] d = op.data;
            int at = op.pieceStart(seg, piece);
            for (int i = at, end = at + count; i < end; i++) {
                d[i] *= inv;
            }
        }
        op.received++;
        if (step + 1 < op.totalSteps) {
            send(op, step + 1, seg, piece);
        }
        maybeComplete(op);
    }

    /** Runs {@code r} on this rank's event loop: at once when already there. */
    private void onContext(Runnable r) {
        if (Vertx.currentContext() == context) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }

    /** Takes back the array of a stream chunk that had to wait for its operation. */
    private void recycle(Chunk c) {
        float[] a = c.floats();
        if (a != null && a.length == chunkFloats && spare.size() < 64) {
            spare.push(a);
        }
    }

    private void maybeComplete(RingOp op) {
        if (!op.finished && op.complete()) {
            op.finished = true;
            vertx.cancelTimer(op.timer);
            ops.remove(op.seq);
            seal(op);
            op.future.complete(null);
        }
    }

    /**
     * No receiver thread writes into {@code op}'s operand after this returns. One still reading
     * into it (only a peer that sends more than the schedule, or a failure mid-frame) has its
     * connection closed under it, which ends the read at once: the ring is broken then anyway.
     */
    private void seal(RingOp op) {
        op.sealed = true;
        if (op.writers.get() > 0) {
            link.abortInbound();
            while (op.writers.get() > 0) {
                Thread.onSpinWait();
            }
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

    /**
     * A neighbour's stream closed. If an operation in flight still needs it, that is a failure
     * the other ranks hear of; if not, the neighbour has done its part and is leaving the ring
     * (a rank may close as soon as its own part of the last operation is done), and only a later
     * operation that needs the stream fails, naming it.
     */
    private void streamClosed(String reason, int peer, boolean toNext) {
        CollectiveException e = new CollectiveException(who() + ": " + reason, peer);
        if (toNext) {
            nextGone = e;
        } else {
            prevGone = e;
        }
        for (RingOp op : new ArrayList<>(ops.values())) {
            if (toNext ? op.needsNext() : op.needsPrev()) {
                // A neighbour that failed closes its streams as it tells every rank why, on the
                // event bus, which is slower than the close: its abort, if one comes within
                // CLOSE_GRACE_MILLIS, names the cause (the rank that died further round the ring)
                // instead of the neighbour that only passed the failure on.
                vertx.setTimer(CLOSE_GRACE_MILLIS, id -> {
                    if (!op.finished) {
                        failOne(op, new CollectiveException(describe(op) + ": " + reason, peer, e));
                        fail(e, true);
                    }
                });
                return;
            }
        }
        LOG.fine(e::getMessage); // no operation needs it (the neighbour is done and closing): later ones will fail
    }

    /** How long a clean close of a neighbour's stream waits for an abort that explains it (see {@link #streamClosed}). */
    static final long CLOSE_GRACE_MILLIS = 300;

    /** Breaks the ring: every operation in flight fails; {@code tell}: let the other ranks know. */
    private void fail(CollectiveException e, boolean tell) {
        if (broken == null) {
            broken = e;
            LOG.log(closed ? Level.FINE : Level.WARNING, e.getMessage());
            if (tell && world > 1 && !closed) {
                tellOthers(e);
            }
        }
        for (RingOp other : new ArrayList<>(ops.values())) {
            failOne(other, new CollectiveException(describe(other) + " abandoned: " + e.getMessage(), e.peerRank(), e));
        }
        ops.clear();
        early.clear();
        earlyFrames.clear();
    }

    private void failOne(RingOp op, CollectiveException e) {
        if (!op.finished) {
            op.finished = true;
            vertx.cancelTimer(op.timer);
            ops.remove(op.seq);
            seal(op);
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
            if (outSocket != null) {
                outSocket.close();
            }
            if (inSocket != null) {
                inSocket.close();
            }
            if (dataClient != null) {
                dataClient.close();
            }
            if (dataServer != null) {
                dataServer.close();
            }
            if (link != null) {
                link.close();
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
