package dev.cornerstone.cluster.collective;

import java.time.Duration;

/**
 * Settings of a communicator.
 *
 * @param transport      how chunks travel between ring neighbours (see {@link Transport})
 * @param timeout        longest time one operation may take on this rank; past it the
 *                       operation fails with a {@link CollectiveException} naming the peer
 * @param connectTimeout longest time creating the communicator waits for its ring
 *                       neighbours to register
 * @param chunkBytes     payload bytes per chunk (an event-bus message, or a frame of the stream); a segment is sent as chunks of
 *                       this size so that ranks forward and reduce while the rest arrives
 * @param generation     the job's generation: messages of another generation are dropped,
 *                       so the ranks of an abandoned ring cannot disturb a re-formed one
 */
public record CollectiveOptions(Duration timeout, Duration connectTimeout, int chunkBytes, long generation,
                                Transport transport) {

    /**
     * How chunks travel. Either way the ring is formed, checked and torn down over the event
     * bus (rank addresses, hellos, aborts), and chunks use the same binary layout.
     */
    public enum Transport {
        /** Each chunk is an event-bus message (codec {@code cornerstone.chunk}). */
        EVENT_BUS,
        /**
         * Each rank streams its chunks to its successor over one Vert.x TCP connection, set up
         * during the hello; the successor adds or copies the floats as the bytes arrive. It
         * skips the event bus's per-message buffering and copies (see the module README).
         */
        STREAM,
        /**
         * Each rank streams its chunks to its successor over one blocking TCP socket, with a
         * sender thread and a receiver thread per link (no event loop in the data path); frames
         * are read into and written from direct buffers, and a piece received is sent on from
         * the buffer it arrived in (see the module README).
         */
        SOCKET,
        /**
         * As {@link #SOCKET}, for ranks on one host: each frame's floats go through a file of
         * slots in shared memory ({@code /dev/shm}) that both neighbours map, and only its
         * header, and a byte back per slot freed, through the socket. A byte is copied by the
         * processes themselves, not twice by the kernel. Forming the ring fails, naming the
         * file, when the predecessor cannot map its successor's file (not on the same host).
         */
        SHARED_MEMORY;

        /** Whether chunks go over a {@code SocketLink} (blocking socket, sender and receiver threads). */
        public boolean usesLink() {
            return this == SOCKET || this == SHARED_MEMORY;
        }

        /** The transport's name in configuration and requests: eventbus, stream, socket, shm. */
        public String configName() {
            return switch (this) {
                case EVENT_BUS -> "eventbus";
                case STREAM -> "stream";
                case SOCKET -> "socket";
                case SHARED_MEMORY -> "shm";
            };
        }

        /** The transport of a {@link #configName()}; null for any other name. */
        public static Transport ofConfigName(String name) {
            for (Transport t : values()) {
                if (t.configName().equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /** 60 s per operation, 60 s to connect, 1 MiB chunks, generation 0, over blocking sockets. */
    public static final CollectiveOptions DEFAULTS = new CollectiveOptions(Duration.ofSeconds(60),
            Duration.ofSeconds(60), 1 << 20, 0, Transport.SOCKET);

    /**
     * The chunk size a transport is configured with when none is given: 4 MiB for
     * {@link Transport#SHARED_MEMORY}, 1 MiB otherwise. A frame costs a hand-off from the
     * receiver thread to the rank's event loop and on to the sender thread; once the floats no
     * longer pass through the kernel, those hand-offs are what a 64 MB all-reduce waits for at
     * 1 MiB (see the module README, Benchmark).
     */
    public static int defaultChunkBytes(Transport t) {
        return t == Transport.SHARED_MEMORY ? 4 << 20 : 1 << 20;
    }

    /** With the default transport, {@link Transport#SOCKET}. */
    public CollectiveOptions(Duration timeout, Duration connectTimeout, int chunkBytes, long generation) {
        this(timeout, connectTimeout, chunkBytes, generation, Transport.SOCKET);
    }

    public CollectiveOptions {
        if (transport == null) {
            throw new IllegalArgumentException("collective transport is required (EVENT_BUS, STREAM, SOCKET or SHARED_MEMORY)");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("collective timeout must be positive, got " + timeout);
        }
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("collective connect timeout must be positive, got " + connectTimeout);
        }
        if (chunkBytes < 4 || chunkBytes % 4 != 0 || chunkBytes > (256 << 20)) {
            throw new IllegalArgumentException("collective chunk size must be a multiple of 4 bytes in 4.." + (256 << 20)
                    + ", got " + chunkBytes);
        }
    }

    public CollectiveOptions withTimeout(Duration t) {
        return new CollectiveOptions(t, connectTimeout, chunkBytes, generation, transport);
    }

    public CollectiveOptions withConnectTimeout(Duration t) {
        return new CollectiveOptions(timeout, t, chunkBytes, generation, transport);
    }

    public CollectiveOptions withChunkBytes(int bytes) {
        return new CollectiveOptions(timeout, connectTimeout, bytes, generation, transport);
    }

    public CollectiveOptions withGeneration(long g) {
        return new CollectiveOptions(timeout, connectTimeout, chunkBytes, g, transport);
    }

    public CollectiveOptions withTransport(Transport t) {
        return new CollectiveOptions(timeout, connectTimeout, chunkBytes, generation, t);
    }
}
