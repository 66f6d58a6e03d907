package dev.cornerstone.api.tensor;

import org.osgi.annotation.versioning.ProviderType;

import dev.cornerstone.api.backend.ComputeBackend;

/**
 * A block of memory owned by a backend, seen as a dense row-major array of {@link #shape()}.
 * Deliberately small: operations live in the backend and in the autograd layer, not here.
 * Closing a tensor frees its memory; using it afterwards is an error.
 */
@ProviderType
public interface Tensor extends AutoCloseable {

    Shape shape();

    DType dtype();

    /** The backend whose memory holds this tensor. */
    ComputeBackend backend();

    default long size() {
        return shape().size();
    }

    /** Whether {@link #close()} was called. */
    boolean isClosed();

    @Override
    void close();
}
