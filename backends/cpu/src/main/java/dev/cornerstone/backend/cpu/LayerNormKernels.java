package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.F32;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Layer normalisation over the last dimension (Ba, Kiros and Hinton, "Layer Normalization",
 * 2016), as llm.c's {@code layernorm_forward} / {@code layernorm_backward}:
 * {@code out = (x - mean) * rstd * weight + bias}, {@code rstd = 1 / sqrt(var + eps)}, var
 * without bias correction.
 *
 * <p>Dimension legend: {@code N} rows (B·T), {@code C} channels.
 *
 * <p>Rows are spread over the threads; each row is worked on with the Vector API ({@link Vec})
 * straight from tensor memory, its statistics summed lane-wise in float; the backward sums
 * dweight and dbias per part and adds the parts in order, so the result does not depend on
 * timing.
 */
final class LayerNormKernels {

    private final Parallel parallel;

    LayerNormKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** x (N, C), weight and bias (C) → out (N, C), mean and rstd (N). */
    void layerNormForward(MemorySegment x, MemorySegment weight, MemorySegment bias, MemorySegment out,
                          MemorySegment mean, MemorySegment rstd, long rows, int c, float eps) {
        int bound = Vec.loopBound(c);
        int tail = c - bound;
        parallel.forRange(rows, Tiles.rowGrain(c), (from, to, s) -> {
            for (long r = from; r < to; r++) {
                long base = r * c;
                float m = Vec.sum(x, base, c) / c;
                // the variance as the mean squared deviation (two passes: no cancellation)
                FloatVector acc = FloatVector.zero(Vec.S);
                for (int i = 0; i < bound; i += Vec.L) {
                    FloatVector d = Vec.load(x, base + i).sub(m);
                    acc = d.fma(d, acc);
                }
                if (tail > 0) {
                    FloatVector d = Vec.load(x, base + bound, tail).sub(m).blend(0f, Vec.mask(tail).not());
                    acc = d.fma(d, acc);
                }
                float v = acc.reduceLanes(VectorOperators.ADD) / c;
                float rs = (float) (1.0 / Math.sqrt(v + eps));
                for (int i = 0; i < bound; i += Vec.L) {
                    Vec.store(Vec.load(x, base + i).sub(m).mul(rs).fma(Vec.load(weight, i), Vec.load(bias, i)),
                            out, base + i);
                }
                if (tail > 0) {
                    Vec.store(Vec.load(x, base + bound, tail).sub(m).mul(rs)
                            .fma(Vec.load(weight, bound, tail), Vec.load(bias, bound, tail)), out, base + bound, tail);
                }
                mean.setAtIndex(F32, r, m);
                rstd.setAtIndex(F32, r, rs);
            }
        });
    }

    /**
     * dx (N, C), dweight and dbias (C) += the gradients of {@link #layerNormForward}, with
     * {@code norm = (x - mean) * rstd} and {@code dnorm = weight * dout}:
     * {@code dx += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd}. Each part sums
     * dweight and dbias over {@link #FLUSH_ROWS} rows in float, then into double.
     */
    void layerNormBackward(MemorySegment dout, MemorySegment x, MemorySegment weight, MemorySegment mean,
                           MemorySegment rstd, MemorySegment dx, MemorySegment dweight, MemorySegment dbias,
                           long rows, int c) {
        int parts = parallel.parts(rows, Tiles.rowGrain(c));
        if (parts == 0) {
            return;
        }
        double[][] dw = new double[parts][c];
        double[][] db = new double[parts][c];
        int bound = Vec.loopBound(c);
        int tail = c - bound;
        parallel.forParts(parts, rows, (part, from, to, s) -> {
            // padded to whole vectors, so the tail needs no mask
            int padded = bound + (tail > 0 ? Vec.L : 0);
            float[] dwf = s.floats(0, padded);
            float[] dbf = s.floats(1, padded);
            java.util.Arrays.fill(dwf, 0, padded, 0f);
            java.util.Arrays.fill(dbf, 0, padded, 0f);
            int pending = 0;
            for (long r = from; r < to; r++) {
                long base = r * c;
                float m = mean.getAtIndex(F32, r);
                float rs = rstd.getAtIndex(F32, r);
                FloatVector sumDnorm = FloatVector.zero(Vec.S);
                FloatVector sumDnormNorm = FloatVector.zero(Vec.S);
                for (int i = 0; i < padded; i += Vec.L) {
                    int n = Math.min(Vec.L, c - i);
                    FloatVector norm = Vec.load(x, base + i, n).sub(m).mul(rs);
                    FloatVector dnorm = Vec.load(weight, i, n).mul(Vec.load(dout, base + i, n));
                    if (n < Vec.L) {
                        norm = norm.blend(0f, Vec.mask(n).not());
                    }
                    sumDnorm = sumDnorm.add(dnorm);
                    sumDnormNorm = dnorm.fma(norm, sumDnormNorm);
                }
                float dnormMean = sumDnorm.reduceLanes(VectorOperators.ADD) / c;
                float dnormNormMean = sumDnormNorm.reduceLanes(VectorOperators.ADD) / c;
                for (int i = 0; i < padded; i += Vec.L) {
                    int n = Math.min(Vec.L, c - i);
                    FloatVector d = Vec.load(dout, base + i, n);
                    FloatVector norm = Vec.load(x, base + i, n).sub(m).mul(rs);
                    if (n < Vec.L) {
                        norm = norm.blend(0f, Vec.mask(n).not());
                    }
                    FloatVector dnorm = Vec.load(weight, i, n).mul(d);
                    FloatVector g = dnorm.sub(dnormMean).sub(norm.mul(dnormNormMean)).mul(rs);
                    Vec.store(Vec.load(dx, base + i, n).add(g), dx, base + i, n);
                    norm.fma(d, FloatVector.fromArray(Vec.S, dwf, i)).intoArray(dwf, i);
                    d.add(FloatVector.fromArray(Vec.S, dbf, i)).intoArray(dbf, i);
                }
                if (++pending == FLUSH_ROWS || r == to - 1) {
                    double[] dwp = dw[part];
                    double[] dbp = db[part];
                    for (int i = 0; i < c; i++) {
                        dwp[i] += dwf[i];
                        dbp[i] += dbf[i];
                        dwf[i] = 0f;
                        dbf[i] = 0f;
                    }
                    pending = 0;
                }
            }
        });
        accumulate(dweight, dw, c);
        accumulate(dbias, db, c);
    }

    /** Rows whose dweight and dbias a part sums in float before adding them into double. */
    private static final int FLUSH_ROWS = 32;

    /** {@code target[i] += (float) sum_p partial[p][i]}. */
    private static void accumulate(MemorySegment target, double[][] partial, int c) {
        float[] t = new float[c];
        load(target, 0, t, c);
        for (int i = 0; i < c; i++) {
            double total = 0;
            for (double[] p : partial) {
                total += p[i];
            }
            t[i] += (float) total;
        }
        store(t, c, target, 0);
    }

    static double sum(float[] a, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double dot(float[] a, float[] b, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += (double) a[i] * b[i];
            s1 += (double) a[i + 1] * b[i + 1];
            s2 += (double) a[i + 2] * b[i + 2];
            s3 += (double) a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += (double) a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
