package dev.cornerstone.cluster.internal.ring;

/** The collectives a ring runs; the byte is the wire code. */
enum OpKind {
    ALL_REDUCE(1, "all-reduce"),
    REDUCE_SCATTER(2, "reduce-scatter"),
    ALL_GATHER(3, "all-gather"),
    BROADCAST(4, "broadcast");

    final byte code;
    final String label;

    OpKind(int code, String label) {
        this.code = (byte) code;
        this.label = label;
    }

    static OpKind of(byte code) {
        for (OpKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return null;
    }
}
