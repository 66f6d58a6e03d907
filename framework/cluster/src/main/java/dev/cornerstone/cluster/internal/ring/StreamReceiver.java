package dev.cornerstone.cluster.internal.ring;

import java.lang.foreign.MemorySegment;

import io.netty.buffer.ByteBuf;

/**
 * Decodes the frames of the {@code STREAM} transport as bytes arrive, without gathering a
 * frame first: after a header, each arriving run of whole floats goes straight into its
 * destination (added or copied); a float split between two reads waits in {@link #partial}.
 * Runs on the communicator's event loop, like everything else of the ring.
 */
final class StreamReceiver {

    /** Where a frame's floats go. */
    interface Sink {
        /** A frame's header arrived: where do its floats go? */
        Target begin(Chunk header);

        /** All its floats have been applied. */
        void end(Chunk header, Target target);
    }

    /** Destination of one frame: {@code array[offset ..]}, added or copied; {@code DISCARD} drops it. */
    static final class Target {
        static final Target DISCARD = new Target(null, 0, false, null);
        final float[] array;
        final int offset;
        final boolean add;
        final RingOp op;

        Target(float[] array, int offset, boolean add, RingOp op) {
            this.array = array;
            this.offset = offset;
            this.add = add;
            this.op = op;
        }

        boolean discards() {
            return array == null || (op != null && op.finished);
        }
    }

    private final Sink sink;
    private final byte[] header = new byte[ChunkCodec.HEADER_BYTES];
    private int headerFill;
    private Chunk current;
    private Target target;
    private int done; // floats of the current frame applied
    private final byte[] partial = new byte[Float.BYTES];
    private int partialFill;

    StreamReceiver(Sink sink) {
        this.sink = sink;
    }

    /** Consumes {@code buf} (the caller releases it). */
    void feed(ByteBuf buf) {
        while (buf.isReadable()) {
            if (current == null) {
                int n = Math.min(buf.readableBytes(), header.length - headerFill);
                buf.readBytes(header, headerFill, n);
                headerFill += n;
                if (headerFill == header.length) {
                    headerFill = 0;
                    current = ChunkFrames.header(header);
                    target = sink.begin(current);
                    done = 0;
                    finishIfEmpty();
                }
                continue;
            }
            if (partialFill > 0) {
                int n = Math.min(buf.readableBytes(), Float.BYTES - partialFill);
                buf.readBytes(partial, partialFill, n);
                partialFill += n;
                if (partialFill == Float.BYTES) {
                    partialFill = 0;
                    float v = Float.intBitsToFloat((partial[0] & 0xff) | (partial[1] & 0xff) << 8
                            | (partial[2] & 0xff) << 16 | (partial[3] & 0xff) << 24);
                    apply(v);
                }
                continue;
            }
            int floats = Math.min(current.count - done, buf.readableBytes() / Float.BYTES);
            if (floats == 0) {
                int n = buf.readableBytes(); // fewer than 4 bytes: the start of a split float
                buf.readBytes(partial, 0, n);
                partialFill = n;
                continue;
            }
            apply(buf, floats);
        }
    }

    private void apply(float v) {
        if (!target.discards()) {
            if (target.add) {
                target.array[target.offset + done] += v;
            } else {
                target.array[target.offset + done] = v;
            }
        }
        done++;
        finishIfEmpty();
    }

    private void apply(ByteBuf buf, int floats) {
        if (!target.discards()) {
            MemorySegment src = MemorySegment.ofBuffer(buf.nioBuffer(buf.readerIndex(), floats * Float.BYTES));
            if (target.add) {
                Chunk.add(target.array, target.offset + done, src, floats);
            } else {
                MemorySegment.copy(src, Chunk.LE_FLOAT, 0, target.array, target.offset + done, floats);
            }
        }
        buf.skipBytes(floats * Float.BYTES);
        done += floats;
        finishIfEmpty();
    }

    private void finishIfEmpty() {
        if (current != null && done == current.count) {
            Chunk h = current;
            Target t = target;
            current = null;
            target = null;
            sink.end(h, t);
        }
    }
}
