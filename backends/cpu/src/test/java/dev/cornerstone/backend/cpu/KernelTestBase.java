package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A backend shared by a test class, and tensors that are closed after each test, which then
 * checks that nothing leaked. Three threads on a two-core machine: parts of uneven size and more
 * parts than cores, the splits most likely to hide an off-by-one.
 */
abstract class KernelTestBase {

    static final int THREADS = 3;

    static CpuBackend backend;

    private final List<Tensor> tensors = new ArrayList<>();

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(THREADS);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @AfterEach
    void closeTensors() {
        tensors.forEach(Tensor::close);
        tensors.clear();
        assertThat(backend.liveTensors()).as("live tensors after the test").isZero();
        assertThat(backend.liveBytes()).as("live bytes after the test").isZero();
    }

    Tensor zeros(int... dims) {
        return zerosOn(backend, dims);
    }

    Tensor f32(float[] data, int... dims) {
        return f32On(backend, data, dims);
    }

    /** A zero tensor of another backend, closed after the test like the others. */
    Tensor zerosOn(CpuBackend on, int... dims) {
        Tensor t = on.allocate(Shape.of(dims), DType.F32);
        tensors.add(t);
        return t;
    }

    Tensor f32On(CpuBackend on, float[] data, int... dims) {
        Tensor t = zerosOn(on, dims);
        on.write(t, 0, data, 0, data.length);
        return t;
    }

    Tensor i32(int[] data, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims), DType.I32);
        tensors.add(t);
        backend.writeInts(t, 0, data, 0, data.length);
        return t;
    }

    Tensor bf16(int... dims) {
        Tensor t = backend.allocate(Shape.of(dims), DType.BF16);
        tensors.add(t);
        return t;
    }

    float[] read(Tensor t) {
        float[] out = new float[(int) t.size()];
        t.backend().read(t, 0, out, 0, out.length);
        return out;
    }

    /** Uniform in [lo, hi). */
    static float[] uniform(SplittableRandom random, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }

    static float[] uniform(SplittableRandom random, int n) {
        return uniform(random, n, -1, 1);
    }

    static int product(int... dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }
}
