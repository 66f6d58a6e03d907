package dev.cornerstone.cluster.internal.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** The wire format of a chunk, as the clustered event bus uses it: after other bytes, in a buffer of its own. */
class ChunkCodecTest {

    final ChunkCodec codec = new ChunkCodec();

    @Test
    void roundTripThroughTheWireKeepsHeaderAndFloatsExactly() {
        float[] src = {Float.NaN, -0f, 1.5f, Float.MIN_VALUE, Float.MAX_VALUE, -3.25e-7f, 42f, Float.NEGATIVE_INFINITY};
        Chunk out = Chunk.outgoing(7, 123456789012L, OpKind.ALL_REDUCE.code, 1000, 3, 2, 5, src, 2, 5);
        Buffer wire = Buffer.buffer(16);
        wire.appendString("vert.x headers"); // the codec writes after what the event bus wrote first
        int pos = wire.length();
        codec.encodeToWire(wire, out);
        assertThat(wire.length()).isEqualTo(pos + ChunkCodec.HEADER_BYTES + 5 * 4);

        Chunk in = codec.decodeFromWire(pos, wire);
        assertThat(in.generation).isEqualTo(7);
        assertThat(in.op).isEqualTo(123456789012L);
        assertThat(in.kind).isEqualTo(OpKind.ALL_REDUCE.code);
        assertThat(in.opLength).isEqualTo(1000);
        assertThat(in.step).isEqualTo(3);
        assertThat(in.piece).isEqualTo(2);
        assertThat(in.sender).isEqualTo(5);
        assertThat(in.count).isEqualTo(5);
        float[] copied = new float[7];
        in.copyInto(copied, 1);
        assertThat(copied).containsExactly(0f, 1.5f, Float.MIN_VALUE, Float.MAX_VALUE, -3.25e-7f, 42f, 0f);
        float[] sums = {1, 1, 1, 1, 1};
        in.addInto(sums, 0);
        assertThat(sums).containsExactly(2.5f, 1 + Float.MIN_VALUE, Float.MAX_VALUE, 1 - 3.25e-7f, 43f);
    }

    @Test
    void theFloatsAreLittleEndianOnTheWire() {
        Chunk out = Chunk.outgoing(0, 0, OpKind.BROADCAST.code, 1, 0, 0, 0, new float[] {1f}, 0, 1);
        Buffer wire = Buffer.buffer();
        codec.encodeToWire(wire, out);
        assertThat(wire.getIntLE(ChunkCodec.HEADER_BYTES)).isEqualTo(Float.floatToRawIntBits(1f));
    }

    @Test
    void transformGivesTheReceiverItsOwnCopy() {
        float[] src = {1, 2, 3};
        Chunk out = Chunk.outgoing(0, 0, OpKind.ALL_GATHER.code, 3, 0, 0, 0, src, 0, 3);
        Chunk in = codec.transform(out);
        src[0] = 99;
        float[] dst = new float[3];
        in.copyInto(dst, 0);
        assertThat(dst).containsExactly(1, 2, 3);
    }

    @Test
    void aForeignOrTruncatedBodyIsRefusedWithAReason() {
        Buffer junk = Buffer.buffer().appendString("JSON{...}").appendBytes(new byte[64]);
        assertThatThrownBy(() -> codec.decodeFromWire(0, junk)).hasMessageContaining("incompatible Cornerstone");

        Buffer wire = Buffer.buffer();
        codec.encodeToWire(wire, Chunk.outgoing(0, 0, OpKind.ALL_GATHER.code, 3, 0, 0, 0, new float[3], 0, 3));
        Buffer cut = wire.getBuffer(0, wire.length() - 1);
        assertThatThrownBy(() -> codec.decodeFromWire(0, cut)).hasMessageContaining("truncated collective chunk");
    }
}
