package dev.cornerstone.cluster.internal.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The vectorized add against its element-by-element reference, bit for bit. */
class LeFloatsTest {

    /** Sizes around the vector length and the header's odd offset: every tail length. */
    private static final int[] SIZES = {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 2048, 4099};

    @Test
    void arrayAndSegmentAddsEqualTheReferenceBitForBit() {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                for (float scale : new float[] {1f, 1f / 3}) {
                    for (int mode = 1; mode < 4; mode++) {
                        boolean keep = (mode & 1) != 0;
                        boolean back = (mode & 2) != 0;
                        float[] dst = gaussian(rnd, n + 5);
                        MemorySegment frame = arena.allocate(ChunkCodec.HEADER_BYTES + 4L * n);
                        for (int i = 0; i < n; i++) {
                            frame.set(Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES + 4L * i, (float) rnd.nextGaussian());
                        }
                        float[] wantDst = dst.clone();
                        MemorySegment wantFrame = arena.allocate(frame.byteSize()).copyFrom(frame);
                        LeFloats.addReference(wantDst, 3, wantFrame, ChunkCodec.HEADER_BYTES, n, scale, keep, back);

                        float[] gotDst = dst.clone();
                        MemorySegment gotFrame = arena.allocate(frame.byteSize()).copyFrom(frame);
                        LeFloats.add(gotDst, 3, gotFrame, ChunkCodec.HEADER_BYTES, n, scale, keep, back);
                        String what = "n " + n + ", scale " + scale + ", keep " + keep + ", back " + back;
                        assertThat(gotDst).as("array, " + what).isEqualTo(wantDst);
                        assertThat(gotFrame.mismatch(wantFrame)).as("frame after the array add, " + what).isEqualTo(-1);

                        MemorySegment seg = arena.allocate(4L * (n + 5));
                        MemorySegment.copy(dst, 0, seg, Chunk.LE_FLOAT, 0, n + 5);
                        MemorySegment segFrame = arena.allocate(frame.byteSize()).copyFrom(frame);
                        LeFloats.add(seg, 12, segFrame, ChunkCodec.HEADER_BYTES, n, scale, keep, back);
                        float[] got = new float[n + 5];
                        MemorySegment.copy(seg, Chunk.LE_FLOAT, 0, got, 0, n + 5);
                        assertThat(got).as("segment, " + what).isEqualTo(wantDst);
                        assertThat(segFrame.mismatch(wantFrame)).as("frame after the segment add, " + what)
                                .isEqualTo(-1);
                    }
                }
            }
        }
    }

    @Test
    void aSumWrittenToAnotherSegmentLeavesTheSourceAsItWas() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                for (boolean keep : new boolean[] {false, true}) {
                    float[] dst = gaussian(rnd, n + 5);
                    MemorySegment slot = arena.allocate(8 + 4L * n);
                    for (int i = 0; i < n; i++) {
                        slot.set(Chunk.LE_FLOAT, 8 + 4L * i, (float) rnd.nextGaussian());
                    }
                    MemorySegment slotBefore = arena.allocate(slot.byteSize()).copyFrom(slot);
                    float[] wantDst = dst.clone();
                    MemorySegment wantFrame = arena.allocate(ChunkCodec.HEADER_BYTES + 4L * n);
                    MemorySegment.copy(slot, 8, wantFrame, ChunkCodec.HEADER_BYTES, 4L * n);
                    LeFloats.addReference(wantDst, 2, wantFrame, ChunkCodec.HEADER_BYTES, n, 0.5f, keep, true);
                    String what = "n " + n + ", keep " + keep;

                    float[] gotDst = dst.clone();
                    MemorySegment frame = arena.allocate(ChunkCodec.HEADER_BYTES + 4L * n);
                    LeFloats.add(gotDst, 2, slot, 8, n, 0.5f, keep, frame, ChunkCodec.HEADER_BYTES);
                    assertThat(gotDst).as("array, " + what).isEqualTo(wantDst);
                    assertThat(frame.mismatch(wantFrame)).as("out after the array add, " + what).isEqualTo(-1);
                    assertThat(slot.mismatch(slotBefore)).as("source after the array add, " + what).isEqualTo(-1);

                    MemorySegment seg = arena.allocate(4L * (n + 5));
                    MemorySegment.copy(dst, 0, seg, Chunk.LE_FLOAT, 0, n + 5);
                    MemorySegment segOut = arena.allocate(ChunkCodec.HEADER_BYTES + 4L * n);
                    LeFloats.add(seg, 8, slot, 8, n, 0.5f, keep, segOut, ChunkCodec.HEADER_BYTES);
                    float[] got = new float[n + 5];
                    MemorySegment.copy(seg, Chunk.LE_FLOAT, 0, got, 0, n + 5);
                    assertThat(got).as("segment, " + what).isEqualTo(wantDst);
                    assertThat(segOut.mismatch(wantFrame)).as("out after the segment add, " + what).isEqualTo(-1);
                    assertThat(slot.mismatch(slotBefore)).as("source after the segment add, " + what).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void theReferenceIsThePlainSum() {
        float[] dst = {1, 2, 3};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment frame = arena.allocate(ChunkCodec.HEADER_BYTES + 12L);
            for (int i = 0; i < 3; i++) {
                frame.set(Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES + 4L * i, 10f * (i + 1));
            }
            LeFloats.addReference(dst, 0, frame, ChunkCodec.HEADER_BYTES, 3, 0.5f, true, true);
            assertThat(dst).containsExactly(5.5f, 11f, 16.5f);
            float[] back = new float[3];
            MemorySegment.copy(frame, Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES, back, 0, 3);
            assertThat(back).containsExactly(5.5f, 11f, 16.5f);
        }
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
