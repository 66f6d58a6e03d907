package dev.cornerstone.cluster.internal.ring;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The data path of the {@code SOCKET} transport on one rank: a blocking {@link SocketChannel}
 * to the successor with a sender thread of its own, and one from the predecessor with a
 * receiver thread of its own, as plain TCP would move the bytes; no event loop and no
 * selector in the way. Frames (the {@link ChunkCodec} header, then little-endian floats) are
 * read whole into, and written from, pooled direct buffers, so the kernel copies straight
 * between the socket and the buffer, and a frame received is forwarded as it is, with its
 * header's step and sender rewritten.
 *
 * <p>This class only moves frames: what they mean is the communicator's business, on its own
 * event loop ({@link Events}). At most {@link #MAX_UNPROCESSED} received frames wait for the
 * communicator at a time; past that the receiver stops reading and TCP holds the predecessor
 * back. Frames waiting to be written are not bounded here: each is a piece of an operation
 * in flight, sent once, so they add up to at most that operation's share of the range.
 */
final class SocketLink implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.collective");
    static final int MAX_UNPROCESSED = 16;
    /** Free frames kept for reuse; more are left to the garbage collector. */
    private static final int MAX_FREE = 32;

    /** What the link tells its communicator, from the link's threads. */
    interface Events {
        /** A whole frame arrived (receiver thread); hand it back with {@link #processed} and {@link #release}. */
        void received(Frame frame);

        /**
         * Where the floats of a frame whose header just arrived go, when straight into an
         * operand (receiver thread); null: into the frame. A route holds its operation's
         * writer count until the floats are in.
         */
        Route route(Chunk header);

        /** The stream from the predecessor ended: closed, reset, or (badStream) not a stream of frames. */
        void inboundEnded(String reason, boolean badStream);

        /** A frame handed to {@link #send} was written to the kernel, or {@code failure} says why not. */
        void written(RingOp op, int step, int piece, IOException failure);

        /** The successor closed its end of the outgoing connection. */
        void outboundEnded(String reason);
    }

    /**
     * Where the floats of a frame go as they arrive. A copy ({@code dst} not null): read straight
     * into {@code dst}, a slice of {@code op}'s off-heap operand. A reduction ({@code dst} null):
     * read into the frame in slices of {@link #ADD_SLICE_BYTES}, each added to the operand's
     * floats from {@code at} while still in cache ({@link LeFloats#add}: with {@code keep} into
     * the operand, with {@code back} over the frame's floats, which then go on to the successor).
     */
    record Route(RingOp op, MemorySegment dst, int at, float scale, boolean keep, boolean back) {
        static Route copy(RingOp op, MemorySegment dst) {
            return new Route(op, dst, 0, 1f, false, false);
        }

        static Route add(RingOp op, int at, float scale, boolean keep, boolean back) {
            return new Route(op, null, at, scale, keep, back);
        }
    }

    /**
     * Bytes a reduction route reads before adding them: the received slice and the operand's
     * stay in the core's cache between the kernel's copy and the add.
     */
    static final int ADD_SLICE_BYTES = 64 * 1024;

    /** A direct buffer holding one frame: the header at 0, the floats after it. */
    static final class Frame {
        final ByteBuffer buf;
        /** The whole buffer as a segment: floats at {@link ChunkCodec#HEADER_BYTES}. */
        final MemorySegment segment;
        /** The header of a frame received. */
        Chunk header;
        /** Its floats went straight into the operand (see {@link Events#route}), not into this buffer. */
        boolean direct;
        /** Its floats were added on arrival ({@link Route#add}): the buffer holds the sum when it goes on. */
        boolean added;
        // Of a frame being sent, for its completion:
        RingOp op;
        int step;
        int piece;

        Frame(int payloadBytes) {
            buf = ByteBuffer.allocateDirect(ChunkCodec.HEADER_BYTES + payloadBytes);
            segment = MemorySegment.ofBuffer(buf);
        }
    }

    /**
     * A piece to send from the caller's array: the sender thread encodes it into a frame of its
     * own just before writing it, so the pieces an operation sends first take no frame each
     * while they wait (the array is not touched by the ring until they are written).
     */
    record Encode(RingOp op, int step, int piece, long generation, int sender, float[] src, int from, int count) {
    }

    private static final Frame STOP = new Frame(0);

    private final String name;
    private final int chunkBytes;
    private final Events events;
    private final ConcurrentLinkedQueue<Frame> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger freeCount = new AtomicInteger();
    private final LinkedBlockingQueue<Object> outgoing = new LinkedBlockingQueue<>(); // Frame or Encode
    private final Semaphore unprocessed = new Semaphore(MAX_UNPROCESSED);
    private volatile boolean closed;
    private ServerSocketChannel server;
    private volatile SocketChannel in;
    private volatile SocketChannel out;

    /** {@code name} prefixes the link's thread names; frames hold up to {@code chunkBytes} of floats. */
    SocketLink(String name, int chunkBytes, Events events) {
        this.name = name;
        this.chunkBytes = chunkBytes;
        this.events = events;
    }

    /**
     * Opens the server the predecessor connects to, on {@code host}, and returns its port.
     * The first connection that sends {@code token} (8 bytes, big-endian) within
     * {@code tokenTimeoutMillis} becomes the incoming stream; any other is closed.
     */
    int listen(String host, long token, int tokenTimeoutMillis) throws IOException {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(host, 0));
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        Thread.ofPlatform().daemon().name(name + "-accept").start(() -> accept(token, tokenTimeoutMillis));
        return port;
    }

    private void accept(long token, int tokenTimeoutMillis) {
        try (ServerSocketChannel s = server) {
            while (!closed) {
                SocketChannel ch = s.accept();
                long got;
                try {
                    ch.socket().setSoTimeout(tokenTimeoutMillis);
                    byte[] t = ch.socket().getInputStream().readNBytes(Long.BYTES);
                    got = t.length == Long.BYTES ? ByteBuffer.wrap(t).getLong() : ~token;
                    ch.socket().setSoTimeout(0);
                } catch (IOException e) {
                    got = ~token;
                }
                if (got != token || closed) {
                    LOG.warning(name + ": refused a stream connection from " + remote(ch) + " (wrong token)");
                    ch.close();
                    continue;
                }
                tune(ch);
                in = ch;
                Thread.ofPlatform().daemon().name(name + "-recv").start(this::receive);
                return; // one predecessor: the server is closed
            }
        } catch (IOException e) {
            if (!closed) {
                events.inboundEnded("the stream server failed: " + e, false);
            }
        }
    }

    /** Connects to the successor's server at {@code host:port} and sends {@code token} (blocks). */
    void connect(String host, int port, long token, int timeoutMillis) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            tune(ch);
            ch.socket().connect(new InetSocketAddress(host, port), timeoutMillis);
            ByteBuffer t = ByteBuffer.allocate(Long.BYTES).putLong(token).flip();
            while (t.hasRemaining()) {
                ch.write(t);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        synchronized (this) {
            if (closed) {
                ch.close();
                throw new IOException("closed while connecting");
            }
            out = ch;
        }
        Thread.ofPlatform().daemon().name(name + "-send").start(this::sendLoop);
        Thread.ofPlatform().daemon().name(name + "-watch").start(this::watch);
    }

    private static void tune(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    /** A frame buffer to fill, from the pool or new. */
    Frame frame() {
        Frame f = free.poll();
        if (f != null) {
            freeCount.decrementAndGet();
            return f;
        }
        return new Frame(chunkBytes);
    }

    /** Gives a frame back to the pool. */
    void release(Frame f) {
        f.header = null;
        f.direct = false;
        f.added = false;
        f.op = null;
        if (freeCount.incrementAndGet() <= MAX_FREE) {
            free.offer(f);
        } else {
            freeCount.decrementAndGet();
        }
    }

    /** The communicator is done with a frame {@link Events#received} handed it (it may still be sending it). */
    void processed() {
        unprocessed.release();
    }

    /**
     * Queues {@code f} (header and {@code count} floats filled in; its {@code op}, {@code step},
     * {@code piece} set) for the successor; the link releases it once written.
     */
    void send(Frame f, int count) {
        f.buf.limit(ChunkCodec.HEADER_BYTES + count * Float.BYTES).position(0);
        outgoing.add(f);
    }

    /** Queues a piece of the caller's array for the successor, encoded when its turn comes. */
    void send(Encode e) {
        outgoing.add(e);
    }

    private void sendLoop() {
        IOException dead = null;
        Frame own = null;
        try {
            while (true) {
                Object next = outgoing.take();
                if (next == STOP) {
                    return;
                }
                Frame f;
                ByteBuffer payload = null; // floats written straight from an off-heap operand
                if (next instanceof Encode e) {
                    f = own != null ? own : new Frame(chunkBytes);
                    own = null;
                    ChunkFrames.writeHeader(f.buf, e.generation(), e.op().seq, e.op().kind.code, e.op().length,
                            e.step(), e.piece(), e.sender(), e.count());
                    if (e.src() != null) {
                        MemorySegment.copy(e.src(), e.from(), f.segment, Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES,
                                e.count());
                        f.buf.limit(ChunkCodec.HEADER_BYTES + e.count() * Float.BYTES).position(0);
                    } else {
                        f.buf.limit(ChunkCodec.HEADER_BYTES).position(0);
                        try {
                            payload = e.op().mem.asSlice((long) e.from() * Float.BYTES,
                                    (long) e.count() * Float.BYTES).asByteBuffer();
                        } catch (RuntimeException gone) { // the caller's arena closed after its operation failed
                            payload = ByteBuffer.allocate(e.count() * Float.BYTES);
                        }
                    }
                    f.op = e.op();
                    f.step = e.step();
                    f.piece = e.piece();
                } else {
                    f = (Frame) next;
                }
                IOException failure = dead;
                if (failure == null) {
                    try {
                        ByteBuffer b = f.buf;
                        if (payload == null) {
                            while (b.hasRemaining()) {
                                out.write(b);
                            }
                        } else {
                            ByteBuffer[] both = {b, payload};
                            while (payload.hasRemaining()) {
                                out.write(both);
                            }
                        }
                    } catch (IOException e) {
                        failure = dead = e;
                    } catch (IllegalStateException e) { // the caller's arena closed under the write
                        failure = dead = new IOException(e.getMessage(), e);
                    }
                }
                RingOp op = f.op;
                int step = f.step;
                int piece = f.piece;
                if (next instanceof Encode) {
                    f.op = null;
                    own = f;
                } else {
                    release(f);
                }
                if (!closed) {
                    events.written(op, step, piece, failure);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Nothing flows back on the outgoing connection: a read returns only when the successor closes it. */
    private void watch() {
        ByteBuffer one = ByteBuffer.allocate(1);
        String reason;
        try {
            reason = out.read(one) < 0 ? "closed" : "sent bytes back";
        } catch (IOException e) {
            reason = "closed (" + e.getMessage() + ")";
        }
        if (!closed) {
            events.outboundEnded(reason);
        }
    }

    private void receive() {
        int chunkFloats = chunkBytes / Float.BYTES;
        try {
            while (!closed) {
                if (!unprocessed.tryAcquire(200, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                Frame f = frame();
                ByteBuffer b = f.buf;
                b.clear().limit(ChunkCodec.HEADER_BYTES);
                if (!readFully(b, true)) {
                    release(f);
                    if (!closed) {
                        events.inboundEnded("closed", false);
                    }
                    return;
                }
                Chunk h = ChunkFrames.header(b);
                if (h.count > chunkFloats) {
                    throw new IllegalStateException("rank " + h.sender + " sent a frame of " + h.count
                            + " floats, more than a chunk of " + chunkFloats + " holds (are the chunk sizes equal?)");
                }
                Route route = h.count > 0 ? events.route(h) : null;
                if (route != null && route.dst() == null) {
                    try {
                        readAdding(f, h.count, route);
                    } finally {
                        route.op().exitWriter();
                    }
                    f.added = true;
                } else if (route != null) {
                    try {
                        if (!readFully(route.dst().asByteBuffer(), false)) {
                            throw new EOFException("closed in the middle of a frame");
                        }
                    } finally {
                        route.op().exitWriter();
                    }
                    f.direct = true;
                } else {
                    b.limit(ChunkCodec.HEADER_BYTES + h.count * Float.BYTES);
                    if (!readFully(b, false)) {
                        throw new EOFException("closed in the middle of a frame");
                    }
                }
                f.header = h;
                events.received(f);
            }
        } catch (IllegalStateException e) {
            if (!closed) {
                events.inboundEnded(e.getMessage(), true);
            }
        } catch (IOException e) {
            if (!closed) {
                events.inboundEnded("closed (" + e.getMessage() + ")", false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Reads {@code count} floats into {@code f} after its header, adding each slice as it
     * arrives (see {@link Route}): no pass over the whole frame once it is in.
     */
    private void readAdding(Frame f, int count, Route r) throws IOException {
        ByteBuffer b = f.buf;
        int end = ChunkCodec.HEADER_BYTES + count * Float.BYTES;
        int addedTo = ChunkCodec.HEADER_BYTES; // bytes below this are added
        RingOp op = r.op();
        while (addedTo < end) {
            b.limit(Math.min(end, addedTo + ADD_SLICE_BYTES));
            if (in.read(b) < 0) {
                throw new EOFException("closed in the middle of a frame");
            }
            int upTo = addedTo + ((b.position() - addedTo) & ~(Float.BYTES - 1)); // whole floats
            if (upTo - addedTo >= LeFloats.RUN * Float.BYTES || !b.hasRemaining()) {
                int from = (addedTo - ChunkCodec.HEADER_BYTES) / Float.BYTES;
                int n = (upTo - addedTo) / Float.BYTES;
                if (op.mem != null) {
                    LeFloats.add(op.mem, (long) (r.at() + from) * Float.BYTES, f.segment, addedTo, n, r.scale(),
                            r.keep(), r.back());
                } else {
                    LeFloats.add(op.data, r.at() + from, f.segment, addedTo, n, r.scale(), r.keep(), r.back());
                }
                addedTo = upTo;
            }
        }
    }

    /** Fills {@code b} to its limit; false at a clean end of stream before any byte (when {@code atFrameStart}). */
    private boolean readFully(ByteBuffer b, boolean atFrameStart) throws IOException {
        boolean any = false;
        while (b.hasRemaining()) {
            int n = in.read(b);
            if (n < 0) {
                if (atFrameStart && !any) {
                    return false;
                }
                throw new EOFException("closed in the middle of a frame");
            }
            any |= n > 0;
        }
        return true;
    }

    private static String remote(SocketChannel ch) {
        try {
            return String.valueOf(ch.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    /** Closes the incoming connection: a read blocked in it ends at once (the ring is failing). */
    void abortInbound() {
        closeQuietly(in);
    }

    /** Closes both connections and the server; the threads end. Frames not yet written are dropped. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closeQuietly(server);
        closeQuietly(in);
        closeQuietly(out);
        outgoing.clear();
        outgoing.add(STOP);
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
