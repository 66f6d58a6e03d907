package dev.cornerstone.backend.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tensor memory from C {@code calloc} and {@code free}, called through FFM downcalls, with exact
 * counts of live blocks and bytes.
 *
 * <p>Why not an {@link java.lang.foreign.Arena} per tensor: a training step allocates and frees
 * many temporaries, and closing a shared arena costs a thread-local handshake with every thread
 * (about 20 µs measured here, against about 0.1 µs for {@code calloc} + {@code free} of a small
 * block); a confined arena cannot be closed from another thread. {@code calloc} returns zeroed
 * memory, as {@code allocate} promises, and for large blocks it maps fresh zero pages instead of
 * clearing them. Blocks are over-allocated by 63 bytes and the segment starts on a 64-byte
 * boundary, the width of an AVX-512 load and of a cache line.
 *
 * <p>Freed blocks are kept, by exact size, for the next allocation of that size (up to
 * {@link #poolLimitBytes} in all): a training step allocates the same shapes every step, and
 * a fresh {@code calloc} of a large block maps new pages that fault in on first touch, which
 * cost more than the kernels that fill them (profiled: 10% of a step on GPT config A). A
 * reused block is zeroed with {@code memset}, on warm pages.
 */
final class NativeMemory {

    static final long ALIGNMENT = 64;

    private static final MethodHandle CALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        // critical: both return quickly and never call back into Java, so skip the thread-state
        // transition (size_t is 64 bits on every platform this backend targets)
        CALLOC = linker.downcallHandle(libc.find("calloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS), Linker.Option.critical(false));
    }

    /** A block: {@code raw} is what {@code free} takes, {@code segment} the aligned usable part. */
    record Block(long raw, MemorySegment segment) {
    }

    private final AtomicLong liveBlocks = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final Map<Long, ConcurrentLinkedDeque<Block>> pool = new ConcurrentHashMap<>();
    private final AtomicLong pooledBytes = new AtomicLong();
    private final long poolLimitBytes;
    private volatile boolean pooling = true;

    NativeMemory(long poolLimitBytes) {
        this.poolLimitBytes = poolLimitBytes;
    }

    NativeMemory() {
        this(Long.getLong("cornerstone.cpu.pool.bytes", 4L << 30));
    }

    /**
     * With {@code -Dcornerstone.cpu.poison=true} (the build's tests set it) a block handed out
     * uninitialized is filled with NaNs instead, so a kernel that reads an output before writing
     * it fails loudly instead of reading the last step's values.
     */
    static final boolean POISON = Boolean.getBoolean("cornerstone.cpu.poison");

    /** A zero-filled block of {@code bytes}, 64-byte aligned. */
    Block allocate(long bytes) {
        return allocate(bytes, true);
    }

    /**
     * A block of {@code bytes}, 64-byte aligned, zero-filled when {@code zero}; otherwise a reused
     * block keeps whatever it held (a fresh one is zero either way: it comes from calloc).
     */
    Block allocate(long bytes, boolean zero) {
        ConcurrentLinkedDeque<Block> free = pool.get(bytes);
        Block reused = free == null ? null : free.pollFirst();
        if (reused != null) {
            pooledBytes.addAndGet(-bytes);
            if (zero) {
                reused.segment().fill((byte) 0);
            } else if (POISON) {
                reused.segment().fill((byte) 0xFF);
            }
            liveBlocks.incrementAndGet();
            liveBytes.addAndGet(bytes);
            return reused;
        }
        MemorySegment raw;
        try {
            raw = (MemorySegment) CALLOC.invokeExact(1L, bytes + ALIGNMENT - 1);
        } catch (Throwable t) {
            throw new IllegalStateException("calloc failed", t);
        }
        if (raw.address() == 0) {
            throw new OutOfMemoryError("calloc of " + bytes + " bytes of native memory failed");
        }
        long aligned = (raw.address() + ALIGNMENT - 1) & -ALIGNMENT;
        liveBlocks.incrementAndGet();
        liveBytes.addAndGet(bytes);
        return new Block(raw.address(), MemorySegment.ofAddress(aligned).reinterpret(bytes));
    }

    /** Returns a block from {@link #allocate} to the pool, or frees it; the caller guarantees it happens once. */
    void free(Block block) {
        long bytes = block.segment().byteSize();
        liveBlocks.decrementAndGet();
        liveBytes.addAndGet(-bytes);
        if (pooling && pooledBytes.addAndGet(bytes) <= poolLimitBytes) {
            pool.computeIfAbsent(bytes, k -> new ConcurrentLinkedDeque<>()).addFirst(block);
            return;
        }
        if (pooling) {
            pooledBytes.addAndGet(-bytes);
        }
        release(block);
    }

    private static void release(Block block) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(block.raw()));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }

    /** Frees every pooled block and stops pooling (when the backend closes). */
    void trim() {
        pooling = false;
        for (ConcurrentLinkedDeque<Block> q : pool.values()) {
            Block b;
            while ((b = q.pollFirst()) != null) {
                pooledBytes.addAndGet(-b.segment().byteSize());
                release(b);
            }
        }
    }

    long pooledBytes() {
        return pooledBytes.get();
    }

    long liveBlocks() {
        return liveBlocks.get();
    }

    long liveBytes() {
        return liveBytes.get();
    }
}
