package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * GELU, tanh approximation, as GPT-2 and llm.c's {@code gelu_forward} / {@code gelu_backward}
 * (Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)", 2016):
 * {@code GELU(x) = 0.5 x (1 + tanh(u))}, {@code u = sqrt(2/pi) (x + 0.044715 x^3)}.
 *
 * <p>Dimension legend: {@code N} elements (any shape).
 *
 * <p>Vector API loops ({@link Vec}) straight over tensor memory; tanh is {@link Vec#tanh}.
 */
final class GeluKernels {

    static final float SCALING = (float) Math.sqrt(2.0 / Math.PI);
    static final float CUBE = 0.044715f;
    private static final FloatVector SCALING_V = FloatVector.broadcast(Vec.S, SCALING);
    private static final FloatVector CUBE_V = FloatVector.broadcast(Vec.S, CUBE);
    private static final FloatVector CUBE3_V = FloatVector.broadcast(Vec.S, 3f * CUBE);
    private static final FloatVector ONE = FloatVector.broadcast(Vec.S, 1f);
    private static final FloatVector HALF = FloatVector.broadcast(Vec.S, 0.5f);

    private final Parallel parallel;

    GeluKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /**
     * out (N) = GELU(x (N)). Each part runs {@link #forwardRange}: a small static method with
     * one loop over whole vectors, which C2 compiles with every Vector API call intrinsified; the
     * few elements past the last whole vector are scalar. (A lambda holding a vector body and a
     * masked copy of it for the tail outgrew C2's inlining budget in a real training run: the
     * calls it gave up on ran the API's Java fallback, allocating an array per operation.)
     */
    void geluForward(MemorySegment x, MemorySegment out, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> forwardRange(x, out, from, to));
    }

    static void forwardRange(MemorySegment x, MemorySegment out, long from, long to) {
        long bound = from + Vec.loopBound(to - from);
        for (long i = from; i < bound; i += Vec.L) {
            FloatVector v = FloatVector.fromMemorySegment(Vec.S, x, i * Float.BYTES, Vec.NATIVE);
            FloatVector u = v.mul(v).mul(v).fma(CUBE_V, v).mul(SCALING_V);
            Vec.tanh(u).add(ONE).mul(v).mul(HALF).intoMemorySegment(out, i * Float.BYTES, Vec.NATIVE);
        }
        for (long i = bound; i < to; i++) {
            float v = x.getAtIndex(Tiles.F32, i);
            out.setAtIndex(Tiles.F32, i, 0.5f * v * (1f + FastMath.tanh(SCALING * (v + CUBE * v * v * v))));
        }
    }

    /** dx (N) += GELU'(x) * dout, with sech^2 u = 1 - tanh^2 u; parts run {@link #backwardRange}. */
    void geluBackward(MemorySegment x, MemorySegment dout, MemorySegment dx, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> backwardRange(x, dout, dx, from, to));
    }

    static void backwardRange(MemorySegment x, MemorySegment dout, MemorySegment dx, long from, long to) {
        long bound = from + Vec.loopBound(to - from);
        for (long i = from; i < bound; i += Vec.L) {
            long off = i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(Vec.S, x, off, Vec.NATIVE);
            FloatVector v2 = v.mul(v);
            FloatVector t = Vec.tanh(v2.mul(v).fma(CUBE_V, v).mul(SCALING_V));
            // 0.5 (1 + t) + 0.5 v (1 - t^2) SCALING (1 + 3 CUBE v^2)
            FloatVector local = t.add(ONE).add(v.mul(ONE.sub(t.mul(t))).mul(v2.fma(CUBE3_V, ONE).mul(SCALING_V)))
                    .mul(HALF);
            local.fma(FloatVector.fromMemorySegment(Vec.S, dout, off, Vec.NATIVE),
                    FloatVector.fromMemorySegment(Vec.S, dx, off, Vec.NATIVE)).intoMemorySegment(dx, off, Vec.NATIVE);
        }
        for (long i = bound; i < to; i++) {
            float v = x.getAtIndex(Tiles.F32, i);
            float t = FastMath.tanh(SCALING * (v + CUBE * v * v * v));
            float local = 0.5f * (1f + t) + v * 0.5f * (1f - t * t) * SCALING * (1f + 3f * CUBE * v * v);
            dx.setAtIndex(Tiles.F32, i, dx.getAtIndex(Tiles.F32, i) + local * dout.getAtIndex(Tiles.F32, i));
        }
    }
}
