package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

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
     * out (N) = GELU(x (N)). The body is written out for whole vectors and again, masked, for
     * the tail rather than put in a helper method: C2 does not inline a helper this large into
     * the loop, and a vector passed to a call that is not inlined is boxed; a mask on every
     * vector costs about half again (measured).
     */
    void geluForward(MemorySegment x, MemorySegment out, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            long i = from;
            for (long bound = from + Vec.loopBound(to - from); i < bound; i += Vec.L) {
                FloatVector v = Vec.load(x, i);
                FloatVector u = v.mul(v).mul(v).fma(CUBE_V, v).mul(SCALING_V);
                Vec.store(Vec.tanh(u).add(ONE).mul(v).mul(HALF), out, i);
            }
            if (i < to) {
                VectorMask<Float> m = Vec.mask((int) (to - i));
                FloatVector v = Vec.load(x, i, m);
                FloatVector u = v.mul(v).mul(v).fma(CUBE_V, v).mul(SCALING_V);
                Vec.store(Vec.tanh(u).add(ONE).mul(v).mul(HALF), out, i, m);
            }
        });
    }

    /** dx (N) += GELU'(x) * dout, with sech^2 u = 1 - tanh^2 u; written out twice, as the forward. */
    void geluBackward(MemorySegment x, MemorySegment dout, MemorySegment dx, long n) {
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            long i = from;
            for (long bound = from + Vec.loopBound(to - from); i < bound; i += Vec.L) {
                FloatVector v = Vec.load(x, i);
                FloatVector v2 = v.mul(v);
                FloatVector t = Vec.tanh(v2.mul(v).fma(CUBE_V, v).mul(SCALING_V));
                // 0.5 (1 + t) + 0.5 v (1 - t^2) SCALING (1 + 3 CUBE v^2)
                FloatVector local = t.add(ONE).add(v.mul(ONE.sub(t.mul(t))).mul(v2.fma(CUBE3_V, ONE).mul(SCALING_V)))
                        .mul(HALF);
                Vec.store(local.fma(Vec.load(dout, i), Vec.load(dx, i)), dx, i);
            }
            if (i < to) {
                VectorMask<Float> m = Vec.mask((int) (to - i));
                FloatVector v = Vec.load(x, i, m);
                FloatVector v2 = v.mul(v);
                FloatVector t = Vec.tanh(v2.mul(v).fma(CUBE_V, v).mul(SCALING_V));
                FloatVector local = t.add(ONE).add(v.mul(ONE.sub(t.mul(t))).mul(v2.fma(CUBE3_V, ONE).mul(SCALING_V)))
                        .mul(HALF);
                Vec.store(local.fma(Vec.load(dout, i, m), Vec.load(dx, i, m)), dx, i, m);
            }
        });
    }
}
