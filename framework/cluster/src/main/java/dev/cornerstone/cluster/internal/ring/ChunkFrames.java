package dev.cornerstone.cluster.internal.ring;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Chunks as frames of a byte stream (the {@code STREAM} transport): the header of
 * {@link ChunkCodec} followed by the floats, little-endian, in one direct buffer that the
 * socket writes without another copy.
 */
final class ChunkFrames {

    private ChunkFrames() {
    }

    /** A frame holding {@code c}'s header and floats, allocated from {@code alloc}; the writer releases it. */
    static ByteBuf encode(ByteBufAllocator alloc, Chunk c) {
        int bytes = c.count * Float.BYTES;
        ByteBuf buf = alloc.directBuffer(ChunkCodec.HEADER_BYTES + bytes, ChunkCodec.HEADER_BYTES + bytes);
        buf.writeByte(ChunkCodec.MAGIC).writeByte(ChunkCodec.VERSION)
                .writeLong(c.generation).writeLong(c.op).writeByte(c.kind).writeInt(c.opLength)
                .writeInt(c.step).writeInt(c.piece).writeInt(c.sender).writeInt(c.count);
        if (bytes > 0) {
            ByteBuffer view = buf.nioBuffer(buf.writerIndex(), bytes);
            c.copyTo(MemorySegment.ofBuffer(view));
            buf.writerIndex(buf.writerIndex() + bytes);
        }
        return buf;
    }

    /** Reads a header from {@code h} (exactly {@link ChunkCodec#HEADER_BYTES} bytes); a chunk without floats. */
    static Chunk header(byte[] h) {
        return header(ByteBuffer.wrap(h));
    }

    /** Offset of a header's step, and of its sender, in a frame. */
    static final int STEP_AT = 2 + 8 + 8 + 1 + 4;
    static final int SENDER_AT = STEP_AT + 4 + 4;
    /** Offset of a header's float count. */
    static final int COUNT_AT = SENDER_AT + 4;

    /**
     * Writes a header into {@code b} at 0 (absolute: the buffer's position and limit stay),
     * big-endian as {@link #encode} writes it; the floats follow at {@link ChunkCodec#HEADER_BYTES}.
     */
    static void writeHeader(ByteBuffer b, long generation, long op, byte kind, int opLength, int step, int piece,
                            int sender, int count) {
        b.put(0, ChunkCodec.MAGIC).put(1, ChunkCodec.VERSION).putLong(2, generation).putLong(10, op)
                .put(18, kind).putInt(19, opLength).putInt(STEP_AT, step).putInt(STEP_AT + 4, piece)
                .putInt(SENDER_AT, sender).putInt(COUNT_AT, count);
    }

    /** Turns a frame received into the same piece sent on: the next step, from {@code sender}. */
    static void forward(ByteBuffer b, int step, int sender) {
        b.putInt(STEP_AT, step).putInt(SENDER_AT, sender);
    }

    /** Reads a header from the start of {@code b} (big-endian, absolute); a chunk without floats. */
    static Chunk header(ByteBuffer b) {
        b = b.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN).position(0);
        byte magic = b.get();
        byte version = b.get();
        if (magic != ChunkCodec.MAGIC || version != ChunkCodec.VERSION) {
            throw new IllegalStateException("not a Cornerstone collective frame of version " + ChunkCodec.VERSION
                    + " (magic " + magic + ", version " + version + "): the peer runs an incompatible Cornerstone");
        }
        long generation = b.getLong();
        long op = b.getLong();
        byte kind = b.get();
        int opLength = b.getInt();
        int step = b.getInt();
        int piece = b.getInt();
        int sender = b.getInt();
        int count = b.getInt();
        if (count < 0) {
            throw new IllegalStateException("collective frame announces " + count + " floats");
        }
        return Chunk.header(generation, op, kind, opLength, step, piece, sender, count);
    }
}
