package dev.cornerstone.cluster.internal.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * One event-bus message of a ring operation: which operation, step and piece it is, who
 * sent it, and {@code count} floats. A chunk being sent only points at the sender's array
 * (the codec copies the floats when it writes the message, which happens before the write
 * future completes); a chunk received from the wire points into the received buffer, and
 * one delivered inside the same JVM owns a copy (see {@link ChunkCodec#transform}).
 */
final class Chunk {

    /** Floats on the wire: little-endian, so that x86 and ARM copy them as they are. */
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final long generation;
    final long op;
    final byte kind;
    final int opLength;
    final int step;
    final int piece;
    final int sender;
    final int count;

    private final float[] array;
    private final int arrayOffset;
    private final Buffer wire;
    private final int wireOffset;

    private Chunk(long generation, long op, byte kind, int opLength, int step, int piece, int sender, int count,
                  float[] array, int arrayOffset, Buffer wire, int wireOffset) {
        this.generation = generation;
        this.op = op;
        this.kind = kind;
        this.opLength = opLength;
        this.step = step;
        this.piece = piece;
        this.sender = sender;
        this.count = count;
        this.array = array;
        this.arrayOffset = arrayOffset;
        this.wire = wire;
        this.wireOffset = wireOffset;
    }

    /** A chunk to send: {@code src[offset, offset + count)}, read when the message is encoded. */
    static Chunk outgoing(long generation, long op, byte kind, int opLength, int step, int piece, int sender,
                          float[] src, int offset, int count) {
        return new Chunk(generation, op, kind, opLength, step, piece, sender, count, src, offset, null, 0);
    }

    /** A chunk read from the wire; its floats stay in {@code wire} at {@code wireOffset}. */
    static Chunk fromWire(long generation, long op, byte kind, int opLength, int step, int piece, int sender,
                          int count, Buffer wire, int wireOffset) {
        return new Chunk(generation, op, kind, opLength, step, piece, sender, count, null, 0, wire, wireOffset);
    }

    /** Only a header: what the stream decoder knows before the floats arrive. */
    static Chunk header(long generation, long op, byte kind, int opLength, int step, int piece, int sender, int count) {
        return new Chunk(generation, op, kind, opLength, step, piece, sender, count, null, 0, null, 0);
    }

    /** This header with {@code floats} (owned) as its payload. */
    Chunk withFloats(float[] floats) {
        return new Chunk(generation, op, kind, opLength, step, piece, sender, count, floats, 0, null, 0);
    }

    /** The array holding the floats of a chunk kept in memory; null for one read from the wire. */
    float[] floats() {
        return wire == null ? array : null;
    }

    /** Copies the floats (of an outgoing chunk) to {@code dst}, little-endian. */
    void copyTo(MemorySegment dst) {
        MemorySegment.copy(array, arrayOffset, dst, LE_FLOAT, 0, count);
    }

    /** The same chunk owning a copy of its floats: what a receiver in the same JVM gets. */
    Chunk copy() {
        float[] own = new float[count];
        if (array != null) {
            System.arraycopy(array, arrayOffset, own, 0, count);
        } else {
            MemorySegment.copy(wireSegment(), LE_FLOAT, 0, own, 0, count);
        }
        return new Chunk(generation, op, kind, opLength, step, piece, sender, count, own, 0, null, 0);
    }

    /** {@code dst[offset, offset + count) = floats}. */
    void copyInto(float[] dst, int offset) {
        if (array != null) {
            System.arraycopy(array, arrayOffset, dst, offset, count);
        } else {
            MemorySegment.copy(wireSegment(), LE_FLOAT, 0, dst, offset, count);
        }
    }

    /** {@code dst[offset, offset + count) += floats}. */
    void addInto(float[] dst, int offset) {
        if (array != null) {
            for (int i = 0; i < count; i++) {
                dst[offset + i] += array[arrayOffset + i];
            }
        } else {
            add(dst, offset, wireSegment(), count);
        }
    }

    /**
     * {@code dst[at, at + n) += } the first {@code n} little-endian floats of {@code src}, in
     * one pass (faster here than copying them out first and adding after).
     */
    static void add(float[] dst, int at, MemorySegment src, int n) {
        for (int i = 0; i < n; i++) {
            dst[at + i] += src.get(LE_FLOAT, (long) i * Float.BYTES);
        }
    }

    /** Writes the floats at the end of {@code buffer}, growing it once. */
    void writeFloats(Buffer buffer) {
        int bytes = count * Float.BYTES;
        if (bytes == 0) {
            return;
        }
        int start = buffer.length();
        buffer.setByte(start + bytes - 1, (byte) 0); // extends the length (and capacity) to hold the payload
        ByteBuffer view = ((BufferInternal) buffer).getByteBuf().nioBuffer(start, bytes);
        MemorySegment.copy(array, arrayOffset, MemorySegment.ofBuffer(view), LE_FLOAT, 0, count);
    }

    private MemorySegment wireSegment() {
        ByteBuffer view = ((BufferInternal) wire).getByteBuf().nioBuffer(wireOffset, count * Float.BYTES);
        return MemorySegment.ofBuffer(view);
    }
}
