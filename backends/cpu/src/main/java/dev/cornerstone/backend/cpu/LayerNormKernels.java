package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.F32;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

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
        parallel.forRange(rows, Tiles.rowGrain(c), (from, to, s) -> {
            for (long r = from; r < to; r++) {
                long base = r * c;
                float m = Vec.sum(x, base, c) / c;
                // the variance as the mean squared deviation (two passes: no cancellation)
                float v = Vec.squaredDeviations(x, base, c, m) / c;
                float rs = (float) (1.0 / Math.sqrt(v + eps));
                normalizeRow(x, weight, bias, out, base, c, m, rs);
                mean.setAtIndex(F32, r, m);
                rstd.setAtIndex(F32, r, rs);
            }
        });
    }

    /** {@code out[base + i] = (x[base + i] - m) * rs * w[i] + b[i]}, i < c. */
    private static void normalizeRow(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment out,
                                     long base, int c, float m, float rs) {
        FloatVector mv = FloatVector.broadcast(Vec.S, m);
        FloatVector rv = FloatVector.broadcast(Vec.S, rs);
        int bound = Vec.loopBound(c);
        for (int i = 0; i < bound; i += Vec.L) {
            long off = (base + i) * Float.BYTES;
            long woff = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(Vec.S, x, off, Vec.NATIVE).sub(mv).mul(rv)
                    .fma(FloatVector.fromMemorySegment(Vec.S, w, woff, Vec.NATIVE),
                            FloatVector.fromMemorySegment(Vec.S, b, woff, Vec.NATIVE))
                    .intoMemorySegment(out, off, Vec.NATIVE);
        }
        for (int i = bound; i < c; i++) {
            out.setAtIndex(F32, base + i, (x.getAtIndex(F32, base + i) - m) * rs * w.getAtIndex(F32, i)
                    + b.getAtIndex(F32, i));
        }
    }

    /**
     * dx (N, C), dweight and dbias (C) += the gradients of {@link #layerNormForward}, with
     * {@code norm = (x - mean) * rstd} and {@code dnorm = weight * dout}:
     * {@code dx += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd}. Each part sums
     * dweight and dbias over {@link #FLUSH_ROWS} rows in float, then into double. Each row is two
     * small static methods, one loop each (see {@link GeluKernels#forwardRange} for why).
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
        parallel.forParts(parts, rows, (part, from, to, s) -> {
            float[] dwf = s.floats(0, c);
            float[] dbf = s.floats(1, c);
            float[] sums = s.floats(2, 2);
            java.util.Arrays.fill(dwf, 0, c, 0f);
            java.util.Arrays.fill(dbf, 0, c, 0f);
            int pending = 0;
            for (long r = from; r < to; r++) {
                long base = r * c;
                float m = mean.getAtIndex(F32, r);
                float rs = rstd.getAtIndex(F32, r);
                backwardSums(dout, x, weight, base, c, m, rs, sums);
                backwardRow(dout, x, weight, dx, base, c, m, rs, sums[0] / c, sums[1] / c, dwf, dbf);
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

    /** {@code sums[0] = sum dnorm}, {@code sums[1] = sum dnorm * norm} over one row. */
    private static void backwardSums(MemorySegment dout, MemorySegment x, MemorySegment w, long base, int c,
                                     float m, float rs, float[] sums) {
        FloatVector mv = FloatVector.broadcast(Vec.S, m);
        FloatVector rv = FloatVector.broadcast(Vec.S, rs);
        FloatVector sumDnorm = FloatVector.zero(Vec.S);
        FloatVector sumDnormNorm = FloatVector.zero(Vec.S);
        int bound = Vec.loopBound(c);
        for (int i = 0; i < bound; i += Vec.L) {
            long off = (base + i) * Float.BYTES;
            FloatVector norm = FloatVector.fromMemorySegment(Vec.S, x, off, Vec.NATIVE).sub(mv).mul(rv);
            FloatVector dnorm = FloatVector.fromMemorySegment(Vec.S, w, (long) i * Float.BYTES, Vec.NATIVE)
                    .mul(FloatVector.fromMemorySegment(Vec.S, dout, off, Vec.NATIVE));
            sumDnorm = sumDnorm.add(dnorm);
            sumDnormNorm = dnorm.fma(norm, sumDnormNorm);
        }
        float a = Vec.sumLanes(sumDnorm);
        float b = Vec.sumLanes(sumDnormNorm);
        for (int i = bound; i < c; i++) {
            float norm = (x.getAtIndex(F32, base + i) - m) * rs;
            float dnorm = w.getAtIndex(F32, i) * dout.getAtIndex(F32, base + i);
            a += dnorm;
            b += dnorm * norm;
        }
        sums[0] = a;
        sums[1] = b;
    }

    /** One row's dx update, and its terms of dweight and dbias into the part's float sums. */
    private static void backwardRow(MemorySegment dout, MemorySegment x, MemorySegment w, MemorySegment dx,
                                    long base, int c, float m, float rs, float dnormMean, float dnormNormMean,
                                    float[] dwf, float[] dbf) {
        FloatVector mv = FloatVector.broadcast(Vec.S, m);
        FloatVector rv = FloatVector.broadcast(Vec.S, rs);
        FloatVector meanV = FloatVector.broadcast(Vec.S, dnormMean);
        FloatVector normMeanV = FloatVector.broadcast(Vec.S, dnormNormMean);
        int bound = Vec.loopBound(c);
        for (int i = 0; i < bound; i += Vec.L) {
            long off = (base + i) * Float.BYTES;
            FloatVector d = FloatVector.fromMemorySegment(Vec.S, dout, off, Vec.NATIVE);
            FloatVector norm = FloatVector.fromMemorySegment(Vec.S, x, off, Vec.NATIVE).sub(mv).mul(rv);
            FloatVector dnorm = FloatVector.fromMemorySegment(Vec.S, w, (long) i * Float.BYTES, Vec.NATIVE).mul(d);
            FloatVector g = dnorm.sub(meanV).sub(norm.mul(normMeanV)).mul(rv);
            FloatVector.fromMemorySegment(Vec.S, dx, off, Vec.NATIVE).add(g).intoMemorySegment(dx, off, Vec.NATIVE);
            norm.fma(d, FloatVector.fromArray(Vec.S, dwf, i)).intoArray(dwf, i);
            d.add(FloatVector.fromArray(Vec.S, dbf, i)).intoArray(dbf, i);
        }
        for (int i = bound; i < c; i++) {
            float d = dout.getAtIndex(F32, base + i);
            float norm = (x.getAtIndex(F32, base + i) - m) * rs;
            float dnorm = w.getAtIndex(F32, i) * d;
            dx.setAtIndex(F32, base + i, dx.getAtIndex(F32, base + i) + (dnorm - dnormMean - norm * dnormNormMean) * rs);
            dwf[i] += norm * d;
            dbf[i] += d;
        }
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
