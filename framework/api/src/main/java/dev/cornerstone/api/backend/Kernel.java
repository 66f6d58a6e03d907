package dev.cornerstone.api.backend;

/**
 * The kernels of the compute SPI, version {@link #SPI_VERSION}. A backend declares which it
 * supports ({@link ComputeBackend#supports}); the parity suite skips, and reports, the
 * others with the backend's reason.
 */
public enum Kernel {
    FILL, COPY, GEMM, ADD, MUL, SCALE, AXPY, SUM_ROWS, GELU, LAYERNORM, ATTENTION, EMBEDDING, CROSS_ENTROPY,
    DROPOUT, ADAMW, SGD, SUM, SUM_SQUARES, CAST;

    /** Bumped whenever a kernel's contract changes or a kernel is added. */
    public static final int SPI_VERSION = 1;
}
