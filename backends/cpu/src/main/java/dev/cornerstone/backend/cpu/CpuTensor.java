package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A tensor of the cpu backend: one block of native memory, freed by the first {@link #close()}.
 * Every kernel reaches the memory through {@link #segment()}, which refuses a closed tensor, so a
 * use after close is an {@link IllegalStateException} naming the tensor, never a read of freed
 * memory.
 */
final class CpuTensor implements Tensor {

    private final CpuBackend backend;
    private final long id;
    private final Shape shape;
    private final DType dtype;
    private final NativeMemory.Block block;
    private final AtomicBoolean closed = new AtomicBoolean();

    CpuTensor(CpuBackend backend, long id, Shape shape, DType dtype, NativeMemory.Block block) {
        this.backend = backend;
        this.id = id;
        this.shape = shape;
        this.dtype = dtype;
        this.block = block;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public ComputeBackend backend() {
        return backend;
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            backend.release(block);
        }
    }

    /** The memory, {@code size() * dtype().bytes()} bytes; throws if the tensor is closed. */
    MemorySegment segment() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        return block.segment();
    }

    @Override
    public String toString() {
        return "cpu tensor #" + id + " " + shape + " " + dtype;
    }
}
