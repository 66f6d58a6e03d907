package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/** Reads into and writes from little-endian off-heap floats: what the float[] copies give, at any offset. */
class SegmentCopyTest {

    private CpuBackend cpu;

    @BeforeEach
    void start() {
        cpu = new CpuBackend(1);
    }

    @AfterEach
    void stop() {
        cpu.close();
    }

    @Test
    void segmentCopiesEqualArrayCopiesForF32AndBf16() {
        Random rnd = new Random(5);
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            try (Tensor t = cpu.allocate(Shape.of(1000), dtype); Arena arena = Arena.ofConfined()) {
                float[] values = new float[1000];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rnd.nextGaussian();
                }
                cpu.write(t, 0, values, 0, values.length);
                float[] want = new float[300];
                cpu.read(t, 17, want, 0, 300);

                MemorySegment seg = arena.allocate(4 * 300 + 6);
                cpu.read(t, 17, seg, 6, 300); // an odd byte offset: unaligned floats
                float[] got = new float[300];
                MemorySegment.copy(seg, ComputeBackend.LE_FLOAT, 6, got, 0, 300);
                assertThat(got).as("read, %s", dtype).containsExactly(want);

                for (int i = 0; i < 300; i++) {
                    seg.set(ComputeBackend.LE_FLOAT, 6 + 4L * i, small(i)); // exact in bf16 too
                }
                cpu.write(t, 500, seg, 6, 300);
                float[] back = new float[300];
                cpu.read(t, 500, back, 0, 300);
                for (int i = 0; i < 300; i++) {
                    assertThat(back[i]).as("write, %s, element %d", dtype, i).isEqualTo(small(i));
                }
            }
        }
    }

    private static float small(int i) {
        return (i % 61) - 30;
    }

    @Test
    void aRangePastTheTensorIsRefused() {
        try (Tensor t = cpu.allocate(Shape.of(10), DType.F32); Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(400);
            assertThatThrownBy(() -> cpu.read(t, 5, seg, 0, 6)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> cpu.write(t, 5, seg, 0, 6)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
