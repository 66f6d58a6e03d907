package dev.cornerstone.backend.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The SPI's default segment copies ({@link ComputeBackend#read(Tensor, long, MemorySegment, long, int)}
 * and its inverse, through a {@code float[]}), on a backend that does not override them: the
 * cluster's data-parallel trainer reads every gradient this way.
 */
class SegmentCopyDefaultTest {

    @Test
    void defaultSegmentCopiesEqualTheArrayCopiesAtAnyByteOffset() {
        Random rnd = new Random(11);
        float[] values = new float[777];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        try (OpenClBackend cl = OpenClTesting.backend(); Tensor t = cl.allocate(Shape.of(values.length), DType.F32);
             Arena arena = Arena.ofConfined()) {
            cl.write(t, 0, values, 0, values.length);
            MemorySegment seg = arena.allocate(4L * 300 + 3);
            cl.read(t, 40, seg, 3, 300); // an odd byte offset: unaligned little-endian floats
            for (int i = 0; i < 300; i++) {
                assertThat(seg.get(ComputeBackend.LE_FLOAT, 3 + 4L * i)).as("element %d", i).isEqualTo(values[40 + i]);
            }
            for (int i = 0; i < 300; i++) {
                seg.set(ComputeBackend.LE_FLOAT, 3 + 4L * i, i * 0.5f - 7);
            }
            cl.write(t, 400, seg, 3, 300);
            float[] back = new float[values.length];
            cl.read(t, 0, back, 0, back.length);
            for (int i = 0; i < back.length; i++) {
                float want = i >= 400 && i < 700 ? (i - 400) * 0.5f - 7 : values[i];
                assertThat(back[i]).as("element %d", i).isEqualTo(want);
            }
        }
    }
}
