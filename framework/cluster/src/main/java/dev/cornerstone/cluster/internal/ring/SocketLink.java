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
 *
 * <p>In shared-memory mode ({@code SHARED_MEMORY}) the successor creates a file of
 * {@link #SHARED_SLOTS} slots of a chunk each (in {@code /dev/shm} where there is one) and
 * offers its name; this rank maps it before it connects. Frame {@code i} travels in slot
 * {@code i mod SHARED_SLOTS}: the sender copies its floats there and writes only the header to
 * the socket; the receiver adds or copies them from the slot straight into place, then counts
 * the slot free in the file's first bytes (a release store), which the sender reads (acquire)
 * before it fills a slot again, backing off from 10 µs to 1 ms while all are full. The kernel
 * moves 39 bytes a frame, not the floats; the socket still orders frames, wakes the receiver and
 * tells either side when the other is gone. Nothing is written back on the socket: a rank may
 * close its link the moment its part is done without losing what its successor has still to
 * read. The file is deleted as soon as the predecessor is connected (both have it
 * mapped then), or when the link closes.
 */
final class SocketLink implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.collective");
    static final int MAX_UNPROCESSED = 16;
    /** Free frames kept for reuse, at most 32 MiB of them (4 to 32 frames); more are left to the garbage collector. */
    private static final int MAX_FREE_BYTES = 32 << 20;

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

    /** Slots of the shared-memory file: frames in flight from one rank to its successor. */
    static final int SHARED_SLOTS = 8;
    /** Bytes before the first slot: the count of frames the receiver has taken out (a long at 0); slots start page-aligned. */
    static final int SHARED_HEADER_BYTES = 4096;
    private static final java.lang.invoke.VarHandle COUNT = java.lang.foreign.ValueLayout.JAVA_LONG.varHandle();

    /** Shared-memory mode: floats through mapped slots, headers through the socket. */
    private final boolean shared;
    private final java.lang.foreign.Arena mappings;
    /** Shared mode: this rank's slots, written by the predecessor, and the file they live in until it connects. */
    private MemorySegment inSlots;
    private volatile java.nio.file.Path inFile;
    /** Shared mode: the successor's slots. */
    private MemorySegment outSlots;
    private volatile boolean outboundOver;
    /** Shared mode: frames sent (sender thread) and received (receiver thread); frame i is in slot i mod SHARED_SLOTS. */
    private long framesSent;
    private long framesReceived;

    private final String name;
    private final int chunkBytes;
    private final Events events;
    private final ConcurrentLinkedQueue<Frame> free = new ConcurrentLinkedQueue<>();
    private final int maxFree;
    private final AtomicInteger freeCount = new AtomicInteger();
    private final LinkedBlockingQueue<Object> outgoing = new LinkedBlockingQueue<>(); // Frame or Encode
    private final Semaphore unprocessed = new Semaphore(MAX_UNPROCESSED);
    private volatile boolean closed;
    private ServerSocketChannel server;
    private volatile SocketChannel in;
    private volatile SocketChannel out;

    /** {@code name} prefixes the link's thread names; frames hold up to {@code chunkBytes} of floats. */
    SocketLink(String name, int chunkBytes, Events events) {
        this(name, chunkBytes, false, events);
    }

    /** As {@link #SocketLink(String, int, Events)}; with {@code shared}, floats go through shared memory (see the class comment). */
    SocketLink(String name, int chunkBytes, boolean shared, Events events) {
        this.name = name;
        this.chunkBytes = chunkBytes;
        this.events = events;
        this.shared = shared;
        this.maxFree = Math.clamp(MAX_FREE_BYTES / Math.max(1, chunkBytes), 4, 32);
        this.mappings = shared ? java.lang.foreign.Arena.ofShared() : null;
    }

    /** Shared mode: the file this rank's predecessor maps, until it has connected; null otherwise. */
    String sharedFile() {
        java.nio.file.Path f = inFile;
        return f == null ? null : f.toString();
    }

    private long sharedBytes() {
        return SHARED_HEADER_BYTES + (long) SHARED_SLOTS * chunkBytes;
    }

    /** Byte offset of the slot of frame {@code frame}. */
    private long slotOf(long frame) {
        return SHARED_HEADER_BYTES + (frame % SHARED_SLOTS) * chunkBytes;
    }

    /** Creates and maps this rank's slots (owner-only file in /dev/shm, else the temporary directory). */
    private void createSlots() throws IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("/dev/shm");
        if (!java.nio.file.Files.isDirectory(dir) || !java.nio.file.Files.isWritable(dir)) {
            dir = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
        }
        sweepStaleSlots(dir);
        java.nio.file.Path f = java.nio.file.Files.createTempFile(dir, SLOTS_PREFIX + ProcessHandle.current().pid() + "-", ".slots",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            // Every page written now: a /dev/shm too small for the slots (a container's is 64 MB by
            // default) is an error here, not a SIGBUS when a slot is first touched.
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long at = 0; at < sharedBytes(); ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), sharedBytes() - at));
                at += ch.write(zeros, at);
            }
            inSlots = ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, sharedBytes(), mappings);
        } catch (IOException | RuntimeException e) {
            java.nio.file.Files.deleteIfExists(f);
            throw new IOException("cannot make the shared-memory file " + f + " of " + sharedBytes() + " bytes ("
                    + SHARED_SLOTS + " slots of " + chunkBytes + "): " + e.getMessage(), e);
        }
        inFile = f;
    }

    /** Slots files are named {@code cornerstone-ring-<pid>-<random>.slots}, {@code pid} the process that made it. */
    static final String SLOTS_PREFIX = "cornerstone-ring-";
    private static final java.util.regex.Pattern SLOTS_NAME =
            java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(SLOTS_PREFIX) + "([0-9]+)-[^/]*\\.slots");
    /** A slots file is left by a dead process when that process is gone and the file is older than this. */
    static final java.time.Duration STALE_AFTER = java.time.Duration.ofMinutes(10);

    /**
     * Deletes the slots files in {@code dir} that a process killed before its predecessor
     * connected left behind (8 to 32 MiB of {@code /dev/shm} each): those whose process is no
     * longer alive and which are older than {@link #STALE_AFTER}. The age guards against a
     * {@code /dev/shm} shared with another process namespace, where a live process's number means
     * nothing here: a file in use is deleted within seconds of its making, once its predecessor
     * connects. Files of other users are left alone (the directory's sticky bit would refuse anyway).
     * Returns the files deleted.
     */
    static java.util.List<java.nio.file.Path> sweepStaleSlots(java.nio.file.Path dir) {
        java.util.List<java.nio.file.Path> deleted = new java.util.ArrayList<>();
        long now = System.currentTimeMillis();
        try (java.nio.file.DirectoryStream<java.nio.file.Path> files =
                     java.nio.file.Files.newDirectoryStream(dir, SLOTS_PREFIX + "*.slots")) {
            for (java.nio.file.Path f : files) {
                java.util.regex.Matcher m = SLOTS_NAME.matcher(f.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                try {
                    long pid = Long.parseLong(m.group(1));
                    boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                    long age = now - java.nio.file.Files.getLastModifiedTime(f).toMillis();
                    boolean mine = java.nio.file.Files.getOwner(f).getName().equals(System.getProperty("user.name"));
                    if (!alive && age > STALE_AFTER.toMillis() && mine && java.nio.file.Files.deleteIfExists(f)) {
                        deleted.add(f);
                        LOG.info("deleted " + f + ", a shared-memory slots file left by process " + pid + ", which is gone");
                    }
                } catch (NumberFormatException | IOException e) {
                    LOG.fine("not sweeping " + f + ": " + e);
                }
            }
        } catch (IOException e) {
            LOG.fine("cannot list " + dir + " for stale slots files: " + e);
        }
        return deleted;
    }

    /** Maps the successor's slots from {@code file}; the message names the file and why it failed. */
    private void mapSlots(String file) throws IOException {
        if (file == null) {
            throw new IOException("the successor offered no shared-memory file");
        }
        java.nio.file.Path f = java.nio.file.Path.of(file);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            if (ch.size() != sharedBytes()) {
                throw new IOException("it holds " + ch.size() + " bytes, not " + SHARED_SLOTS + " slots of "
                        + chunkBytes + " after " + SHARED_HEADER_BYTES);
            }
            outSlots = ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, sharedBytes(), mappings);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot map the successor's shared-memory file " + file + " (shared memory needs "
                    + "both ranks on one host; use the socket transport across hosts): " + e.getMessage(), e);
        }
    }

    private void deleteSlotsFile() {
        java.nio.file.Path f = inFile;
        inFile = null;
        if (f != null) {
            try {
                java.nio.file.Files.deleteIfExists(f);
            } catch (IOException e) {
                LOG.warning(name + ": cannot delete " + f + ": " + e);
            }
        }
    }

    /**
     * Opens the server the predecessor connects to, on {@code host}, and returns its port.
     * The first connection that sends {@code token} (8 bytes, big-endian) within
     * {@code tokenTimeoutMillis} becomes the incoming stream; any other is closed.
     */
    int listen(String host, long token, int tokenTimeoutMillis) throws IOException {
        if (shared) {
            createSlots();
        }
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
                deleteSlotsFile(); // mapped by both ranks now
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
        connect(host, port, token, timeoutMillis, null);
    }

    /** As {@link #connect(String, int, long, int)}; shared mode first maps the successor's {@code sharedFile}. */
    void connect(String host, int port, long token, int timeoutMillis, String sharedFile) throws IOException {
        if (shared) {
            mapSlots(sharedFile);
        }
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
        if (freeCount.incrementAndGet() <= maxFree) {
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
                    f = own != null ? own : new Frame(shared ? 0 : chunkBytes); // shared: a header, the floats go to a slot
                    own = null;
                    ChunkFrames.writeHeader(f.buf, e.generation(), e.op().seq, e.op().kind.code, e.op().length,
                            e.step(), e.piece(), e.sender(), e.count());
                    if (shared) {
                        f.buf.limit(ChunkCodec.HEADER_BYTES).position(0); // the floats go to a slot, in writeShared
                    } else if (e.src() != null) {
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
                        if (shared) {
                            writeShared(next, f);
                        } else if (payload == null) {
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

    /**
     * Shared mode: waits for a free slot of the successor's file, copies the frame's floats there
     * (from the frame, the caller's array or its off-heap operand), then writes the header.
     */
    private void writeShared(Object next, Frame f) throws IOException, InterruptedException {
        long pauseNanos = 10_000;
        while ((long) COUNT.getAcquire(outSlots, 0L) <= framesSent - SHARED_SLOTS) { // every slot still full
            if (closed || outboundOver) {
                throw new IOException("the successor's end is closed");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
            pauseNanos = Math.min(1_000_000, pauseNanos * 2);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        long slot = slotOf(framesSent++);
        int count = f.buf.getInt(ChunkFrames.COUNT_AT);
        if (next instanceof Encode e) {
            if (e.src() != null) {
                MemorySegment.copy(e.src(), e.from(), outSlots, Chunk.LE_FLOAT, slot, count);
            } else {
                MemorySegment.copy(e.op().mem, (long) e.from() * Float.BYTES, outSlots, slot, (long) count * Float.BYTES);
            }
        } else {
            MemorySegment.copy(f.segment, ChunkCodec.HEADER_BYTES, outSlots, slot, (long) count * Float.BYTES);
        }
        ByteBuffer b = f.buf;
        b.limit(ChunkCodec.HEADER_BYTES).position(0);
        while (b.hasRemaining()) {
            out.write(b);
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
        outboundOver = true;
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
                if (shared) {
                    receiveShared(f, h, route);
                } else if (route != null && route.dst() == null) {
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
     * Shared mode: the floats of the frame whose header {@code h} just arrived are in the next
     * slot; adds or copies them into place ({@code route}) or into the frame, then frees the slot.
     */
    private void receiveShared(Frame f, Chunk h, Route route) {
        long slot = slotOf(framesReceived++);
        long bytes = (long) h.count * Float.BYTES;
        if (route != null) {
            try {
                if (route.dst() == null) {
                    RingOp op = route.op();
                    MemorySegment out = route.back() ? f.segment : null;
                    if (op.mem != null) {
                        LeFloats.add(op.mem, (long) route.at() * Float.BYTES, inSlots, slot, h.count, route.scale(),
                                route.keep(), out, ChunkCodec.HEADER_BYTES);
                    } else {
                        LeFloats.add(op.data, route.at(), inSlots, slot, h.count, route.scale(), route.keep(), out,
                                ChunkCodec.HEADER_BYTES);
                    }
                    f.added = true;
                } else {
                    MemorySegment.copy(inSlots, slot, route.dst(), 0, bytes);
                    f.direct = true;
                }
            } finally {
                route.op().exitWriter();
            }
        } else {
            MemorySegment.copy(inSlots, slot, f.segment, ChunkCodec.HEADER_BYTES, bytes);
        }
        f.buf.limit(ChunkCodec.HEADER_BYTES + (int) bytes);
        COUNT.setRelease(inSlots, 0L, framesReceived); // the slot is free again
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
        if (shared) {
            deleteSlotsFile();
            try {
                mappings.close(); // a link thread still copying gets an IllegalStateException, not a crash
            } catch (IllegalStateException e) {
                LOG.fine(() -> name + ": mappings not closed: " + e.getMessage());
            }
        }
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
