package dev.cornerstone.backend.opencl;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/** A tensor of the opencl backend: one device buffer ({@code cl_mem}), returned to the pool when closed. */
final class ClTensor implements Tensor {

    private final OpenClBackend backend;
    private final long id;
    private final Shape shape;
    private final DType dtype;
    final long buffer;
    /** Bytes of the buffer (the payload rounded up to the pool's granule). */
    final long capacity;
    private volatile boolean closed;

    ClTensor(OpenClBackend backend, long id, Shape shape, DType dtype, long buffer, long capacity) {
        this.backend = backend;
        this.id = id;
        this.shape = shape;
        this.dtype = dtype;
        this.buffer = buffer;
        this.capacity = capacity;
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

    /** Payload bytes: elements times the dtype's size. */
    long bytes() {
        return shape.size() * dtype.bytes();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        synchronized (backend) {
            if (closed) {
                return;
            }
            closed = true;
            backend.release(this);
        }
    }

    @Override
    public String toString() {
        return "opencl tensor #" + id + " " + dtype + " " + shape + (closed ? " (closed)" : "");
    }
}
