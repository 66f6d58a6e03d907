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
        ByteBuffer b = ByteBuffer.wrap(h); // big-endian, as written
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
