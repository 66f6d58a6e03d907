package dev.cornerstone.backend.cpu;

import java.util.SplittableRandom;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * Microseconds per call of the non-GEMM kernels at GPT config A's shapes (B 32, T 64, C 128,
 * NH 4): a developer's tool for finding which kernel to fix, not a test.
 *
 * <pre>java -cp ... dev.cornerstone.backend.cpu.KernelTimes [THREADS]</pre>
 */
public final class KernelTimes {

    interface Call {
        void run();
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int b = 32, t = 64, c = 128, nh = 4, n = b * t;
        try (CpuBackend be = new CpuBackend(threads)) {
            Tensor x = rand(be, n, c), w = rand(be, c), bias = rand(be, c), out = rand(be, n, c);
            Tensor mean = rand(be, n), rstd = rand(be, n), dx = rand(be, n, c), dw = rand(be, c), db = rand(be, c);
            Tensor h = rand(be, n, 4 * c), hOut = rand(be, n, 4 * c), dh = rand(be, n, 4 * c);
            Tensor qkv = rand(be, b, t, 3 * c), dqkv = rand(be, b, t, 3 * c), att = rand(be, b, nh, t, t);
            Tensor ao = rand(be, b, t, c);
            time("layerNormForward", () -> be.layerNormForward(x, w, bias, out, mean, rstd, 1e-5f), n * c);
            time("layerNormBackward", () -> be.layerNormBackward(out, x, w, mean, rstd, dx, dw, db), n * c);
            time("geluForward", () -> be.geluForward(h, hOut), n * 4 * c);
            time("geluBackward", () -> be.geluBackward(h, hOut, dh), n * 4 * c);
            time("add (residual)", () -> be.add(x, out, dx), n * c);
            time("add (bias 4C)", () -> be.add(h, rand1(be, 4 * c), hOut), n * 4 * c);
            time("sumRows (4C)", () -> be.sumRows(h, db4), n * 4 * c);
            time("axpy", () -> be.axpy(1f, x, dx), n * c);
            time("attentionForward", () -> be.attentionForward(qkv, att, ao, b, t, c, nh), b * nh * t * t);
            time("attentionBackward", () -> be.attentionBackward(ao, qkv, att, dqkv, b, t, c, nh), b * nh * t * t);
        }
    }

    static Tensor db4;

    static Tensor rand1(CpuBackend be, int n) {
        if (db4 == null) {
            db4 = rand(be, n);
        }
        return db4;
    }

    static void time(String name, Call call, long elements) {
        for (int i = 0; i < 200; i++) {
            call.run();
        }
        int reps = 400;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            call.run();
        }
        double us = (System.nanoTime() - t0) / 1e3 / reps;
        System.out.printf("%-20s %9.1f us  %6.2f ns/element%n", name, us, us * 1e3 / elements);
    }

    static Tensor rand(CpuBackend be, int... dims) {
        Tensor tt = be.allocate(Shape.of(dims), DType.F32);
        float[] v = new float[(int) tt.shape().size()];
        SplittableRandom r = new SplittableRandom(dims.length * 31L + v.length);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        be.write(tt, 0, v, 0, v.length);
        return tt;
    }
}
