package dev.cornerstone.backend.opencl;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.lwjgl.opencl.CL10;

/**
 * Device buffers kept for reuse, by size: a training step frees and allocates the same shapes
 * every time, so after the first step its tensors come from here instead of from the driver.
 * Sizes are rounded up to {@link #GRANULE} bytes. Reusing a buffer at once is safe because the
 * backend has one in-order queue: whatever was enqueued on the buffer before it was freed runs
 * before whatever is enqueued after it was taken again. Not thread-safe: the backend calls it
 * under its lock.
 */
final class BufferPool {

    static final long GRANULE = 256;

    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long pooledBytes;
    private long pooledBuffers;

    static long capacity(long bytes) {
        return Math.max(GRANULE, Launch.roundUp(bytes, GRANULE));
    }

    /** A pooled buffer of exactly {@code capacity} bytes, or 0 if there is none. */
    long take(long capacity) {
        ArrayDeque<Long> q = free.get(capacity);
        if (q == null || q.isEmpty()) {
            return 0;
        }
        pooledBytes -= capacity;
        pooledBuffers--;
        return q.pop();
    }

    void give(long buffer, long capacity) {
        free.computeIfAbsent(capacity, c -> new ArrayDeque<>()).push(buffer);
        pooledBytes += capacity;
        pooledBuffers++;
    }

    /** Bytes held by pooled (free) buffers. */
    long pooledBytes() {
        return pooledBytes;
    }

    long pooledBuffers() {
        return pooledBuffers;
    }

    /** Releases every pooled buffer to the driver; returns the bytes freed. */
    long trim() {
        long freed = pooledBytes;
        for (ArrayDeque<Long> q : free.values()) {
            for (long b : q) {
                CL10.clReleaseMemObject(b);
            }
        }
        free.clear();
        pooledBytes = 0;
        pooledBuffers = 0;
        return freed;
    }
}
