package dev.cornerstone.api.tensor;

/** Element types. {@code BF16} is reserved for mixed precision; backends may not support it yet. */
public enum DType {
    F32(4),
    BF16(2),
    /** Token ids and class labels. */
    I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
