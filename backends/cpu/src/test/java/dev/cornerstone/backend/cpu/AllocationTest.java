package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/** Tensor memory: zero-filled, aligned, counted exactly, freed once, refused after close. */
class AllocationTest {

    private CpuBackend cpu;

    @BeforeEach
    void start() {
        cpu = new CpuBackend(2);
    }

    @AfterEach
    void stop() {
        cpu.close();
    }

    @Test
    void newTensorsAreZeroAndAligned() {
        try (Tensor t = cpu.allocate(Shape.of(3, 1000), DType.F32)) {
            float[] values = new float[3000];
            java.util.Arrays.fill(values, 7f);
            cpu.read(t, 0, values, 0, values.length);
            assertThat(values).containsOnly(0f);
            assertThat(((CpuTensor) t).segment().address() % NativeMemory.ALIGNMENT).isZero();
            assertThat(t.backend()).isSameAs(cpu);
        }
    }

    @Test
    void liveCountsAreExactAndReturnToZero() {
        Tensor a = cpu.allocate(Shape.of(2, 3), DType.F32);
        Tensor b = cpu.allocate(Shape.of(5), DType.I32);
        Tensor c = cpu.allocate(Shape.of(7), DType.BF16);
        Tensor empty = cpu.allocate(Shape.of(0, 4), DType.F32);
        assertThat(cpu.liveTensors()).isEqualTo(4);
        assertThat(cpu.liveBytes()).isEqualTo(6 * 4 + 5 * 4 + 7 * 2);
        b.close();
        assertThat(cpu.liveTensors()).isEqualTo(3);
        assertThat(cpu.liveBytes()).isEqualTo(6 * 4 + 7 * 2);
        a.close();
        c.close();
        empty.close();
        assertThat(cpu.liveTensors()).isZero();
        assertThat(cpu.liveBytes()).isZero();
    }

    @Test
    void doubleCloseIsANoOp() {
        Tensor t = cpu.allocate(Shape.of(4), DType.F32);
        t.close();
        t.close();
        assertThat(t.isClosed()).isTrue();
        assertThat(cpu.liveTensors()).isZero();
        assertThat(cpu.liveBytes()).isZero();
    }

    @Test
    void useAfterCloseNamesTheTensor() {
        Tensor t = cpu.allocate(Shape.of(2, 3), DType.F32);
        Tensor other = cpu.allocate(Shape.of(2, 3), DType.F32);
        t.close();
        assertThatThrownBy(() -> cpu.read(t, 0, new float[6], 0, 6))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("(2, 3)").hasMessageContaining("F32").hasMessageContaining("closed");
        assertThatThrownBy(() -> cpu.fill(t, 1f)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> cpu.add(other, t, other)).isInstanceOf(IllegalStateException.class);
        other.close();
    }

    @Test
    void readAndWriteAreBoundsChecked() {
        try (Tensor t = cpu.allocate(Shape.of(2, 5), DType.F32)) {
            assertThatThrownBy(() -> cpu.write(t, 8, new float[3], 0, 3))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("(2, 5)");
            assertThatThrownBy(() -> cpu.read(t, -1, new float[3], 0, 1))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("(2, 5)");
            assertThatThrownBy(() -> cpu.read(t, 0, new float[3], 1, 3))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("(2, 5)");
            assertThatThrownBy(() -> cpu.write(t, 0, new float[3], 0, -1))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            cpu.write(t, 7, new float[] {1, 2, 3}, 0, 3);                 // the last three fit
            float[] back = new float[4];
            cpu.read(t, 6, back, 0, 4);
            assertThat(back).containsExactly(0f, 1f, 2f, 3f);
        }
        try (Tensor ids = cpu.allocate(Shape.of(3), DType.I32)) {
            assertThatThrownBy(() -> cpu.writeInts(ids, 1, new int[3], 0, 3))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("(3,)");
            assertThatThrownBy(() -> cpu.write(ids, 0, new float[3], 0, 3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("writeInts");
            cpu.writeInts(ids, 0, new int[] {4, -1, 7}, 0, 3);
            int[] back = new int[3];
            cpu.readInts(ids, 0, back, 0, 3);
            assertThat(back).containsExactly(4, -1, 7);
        }
    }

    @Test
    void bf16ReadAndWriteRoundToNearestEven() {
        try (Tensor t = cpu.allocate(Shape.of(3), DType.BF16)) {
            // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even gives 1
            cpu.write(t, 0, new float[] {1f + 0x1p-8f, 1f + 0x1p-8f + 0x1p-20f, -2.5f}, 0, 3);
            float[] back = new float[3];
            cpu.read(t, 0, back, 0, 3);
            assertThat(back).containsExactly(1f, 1f + 0x1p-7f, -2.5f);
        }
    }

    @Test
    void tensorsOfAnotherBackendAreRefused() {
        try (CpuBackend other = new CpuBackend(1);
             Tensor foreign = other.allocate(Shape.of(2), DType.F32);
             Tensor mine = cpu.allocate(Shape.of(2), DType.F32)) {
            assertThatThrownBy(() -> cpu.copy(foreign, mine))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong");
        }
    }

    @Test
    void aClosedBackendAllocatesNothingButItsTensorsStillClose() {
        CpuBackend closing = new CpuBackend(2);
        Tensor t = closing.allocate(Shape.of(8), DType.F32);
        closing.close();
        assertThatThrownBy(() -> closing.allocate(Shape.of(1), DType.F32)).isInstanceOf(IllegalStateException.class);
        t.close();
        assertThat(closing.liveTensors()).isZero();
    }

    @Test
    void manySmallAllocationsStayCheapAndBalanced() {
        for (int i = 0; i < 20_000; i++) {
            try (Tensor t = cpu.allocate(Shape.of(1 + i % 97), DType.F32)) {
                cpu.fill(t, i);
            }
        }
        assertThat(cpu.liveTensors()).isZero();
        assertThat(cpu.liveBytes()).isZero();
    }
}
