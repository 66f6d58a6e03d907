package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.F32;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Layer normalisation over the last dimension (Ba, Kiros and Hinton, "Layer Normalization",
 * 2016), as llm.c's {@code layernorm_forward} / {@code layernorm_backward}:
 * {@code out = (x - mean) * rstd * weight + bias}, {@code rstd = 1 / sqrt(var + eps)}, var
 * without bias correction.
 *
 * <p>Dimension legend: {@code N} rows (B·T), {@code C} channels.
 *
 * <p>Rows are spread over the threads; a row lives in scratch arrays while it is worked on. Row
 * statistics accumulate in double (four accumulators each, see {@link ReductionKernels}); the
 * backward sums dweight and dbias per part in double and adds the parts in order.
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
            float[] w = s.floats(0, c);
            float[] b = s.floats(1, c);
            float[] row = s.floats(2, c);
            load(weight, 0, w, c);
            load(bias, 0, b, c);
            for (long r = from; r < to; r++) {
                load(x, r * c, row, c);
                double m = sum(row, c) / c;
                double v = squaredDeviations(row, c, m) / c;
                float mf = (float) m;
                float rs = (float) (1.0 / Math.sqrt(v + eps));
                for (int i = 0; i < c; i++) {
                    row[i] = (row[i] - mf) * rs * w[i] + b[i];
                }
                store(row, c, out, r * c);
                mean.setAtIndex(F32, r, mf);
                rstd.setAtIndex(F32, r, rs);
            }
        });
    }

    /**
     * dx (N, C), dweight and dbias (C) += the gradients of {@link #layerNormForward}, with
     * {@code norm = (x - mean) * rstd} and {@code dnorm = weight * dout}:
     * {@code dx += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd}.
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
            float[] w = s.floats(0, c);
            float[] d = s.floats(1, c);          // dout row
            float[] xr = s.floats(2, c);         // x row, then norm
            float[] dxr = s.floats(3, c);
            float[] dnorm = s.floats(4, c);
            double[] dwp = dw[part];
            double[] dbp = db[part];
            load(weight, 0, w, c);
            for (long r = from; r < to; r++) {
                float m = mean.getAtIndex(F32, r);
                float rs = rstd.getAtIndex(F32, r);
                load(dout, r * c, d, c);
                load(x, r * c, xr, c);
                load(dx, r * c, dxr, c);
                for (int i = 0; i < c; i++) {
                    xr[i] = (xr[i] - m) * rs;
                    dnorm[i] = w[i] * d[i];
                }
                float dnormMean = (float) (sum(dnorm, c) / c);
                float dnormNormMean = (float) (dot(dnorm, xr, c) / c);
                for (int i = 0; i < c; i++) {
                    dxr[i] += (dnorm[i] - dnormMean - xr[i] * dnormNormMean) * rs;
                    dwp[i] += xr[i] * d[i];
                    dbp[i] += d[i];
                }
                store(dxr, c, dx, r * c);
            }
        });
        accumulate(dweight, dw, c);
        accumulate(dbias, db, c);
    }

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

    private static double squaredDeviations(float[] a, int n, double m) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            double d0 = a[i] - m;
            double d1 = a[i + 1] - m;
            double d2 = a[i + 2] - m;
            double d3 = a[i + 3] - m;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = a[i] - m;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }
}
