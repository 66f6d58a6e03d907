package dev.cornerstone.cluster.internal.ring;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * The binary codec of {@link Chunk}s; tensor payloads never become JSON. Body layout
 * (integers big-endian as Vert.x writes them, floats little-endian):
 *
 * <pre>
 * byte  'C'  byte version (1)
 * long  generation   long op   byte kind   int opLength
 * int   step         int piece int sender  int count
 * float[count]
 * </pre>
 */
final class ChunkCodec implements MessageCodec<Chunk, Chunk> {

    static final String NAME = "cornerstone.chunk";
    static final byte MAGIC = 'C';
    static final byte VERSION = 1;
    /** Bytes before the floats. */
    static final int HEADER_BYTES = 2 + 8 + 8 + 1 + 4 * 5;

    private static final Map<EventBus, Boolean> REGISTERED = Collections.synchronizedMap(new WeakHashMap<>());

    /** Registers the codec on {@code bus} once (a second registration under the same name would throw). */
    static void registerOn(EventBus bus) {
        synchronized (REGISTERED) {
            if (REGISTERED.putIfAbsent(bus, Boolean.TRUE) == null) {
                bus.registerCodec(new ChunkCodec());
            }
        }
    }

    @Override
    public void encodeToWire(Buffer buffer, Chunk c) {
        buffer.appendByte(MAGIC).appendByte(VERSION)
                .appendLong(c.generation).appendLong(c.op).appendByte(c.kind).appendInt(c.opLength)
                .appendInt(c.step).appendInt(c.piece).appendInt(c.sender).appendInt(c.count);
        c.writeFloats(buffer);
    }

    @Override
    public Chunk decodeFromWire(int pos, Buffer buffer) {
        byte magic = buffer.getByte(pos);
        byte version = buffer.getByte(pos + 1);
        if (magic != MAGIC || version != VERSION) {
            throw new IllegalStateException("not a Cornerstone collective chunk of version " + VERSION + " (magic "
                    + magic + ", version " + version + "): the peer runs an incompatible Cornerstone");
        }
        int p = pos + 2;
        long generation = buffer.getLong(p);
        long op = buffer.getLong(p + 8);
        byte kind = buffer.getByte(p + 16);
        int opLength = buffer.getInt(p + 17);
        int step = buffer.getInt(p + 21);
        int piece = buffer.getInt(p + 25);
        int sender = buffer.getInt(p + 29);
        int count = buffer.getInt(p + 33);
        int floats = p + 37;
        if (count < 0 || floats + (long) count * Float.BYTES > buffer.length()) {
            throw new IllegalStateException("truncated collective chunk: " + count + " floats announced, "
                    + (buffer.length() - floats) + " bytes present");
        }
        return Chunk.fromWire(generation, op, kind, opLength, step, piece, sender, count, buffer, floats);
    }

    /** Delivery inside one JVM: the receiver gets its own copy, as the sender's array changes afterwards. */
    @Override
    public Chunk transform(Chunk c) {
        return c.copy();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
