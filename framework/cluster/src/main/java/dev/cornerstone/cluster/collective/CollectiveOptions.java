package dev.cornerstone.cluster.collective;

import java.time.Duration;

/**
 * Settings of a communicator.
 *
 * @param timeout        longest time one operation may take on this rank; past it the
 *                       operation fails with a {@link CollectiveException} naming the peer
 * @param connectTimeout longest time creating the communicator waits for its ring
 *                       neighbours to register
 * @param chunkBytes     payload bytes per event-bus message; a segment is sent as chunks of
 *                       this size so that ranks forward and reduce while the rest arrives
 * @param generation     the job's generation: messages of another generation are dropped,
 *                       so the ranks of an abandoned ring cannot disturb a re-formed one
 */
public record CollectiveOptions(Duration timeout, Duration connectTimeout, int chunkBytes, long generation) {

    /** 60 s per operation, 60 s to connect, 4 MiB chunks, generation 0. */
    public static final CollectiveOptions DEFAULTS = new CollectiveOptions(Duration.ofSeconds(60),
            Duration.ofSeconds(60), 4 << 20, 0);

    public CollectiveOptions {
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
        return new CollectiveOptions(t, connectTimeout, chunkBytes, generation);
    }

    public CollectiveOptions withConnectTimeout(Duration t) {
        return new CollectiveOptions(timeout, t, chunkBytes, generation);
    }

    public CollectiveOptions withChunkBytes(int bytes) {
        return new CollectiveOptions(timeout, connectTimeout, bytes, generation);
    }

    public CollectiveOptions withGeneration(long g) {
        return new CollectiveOptions(timeout, connectTimeout, chunkBytes, g);
    }
}
