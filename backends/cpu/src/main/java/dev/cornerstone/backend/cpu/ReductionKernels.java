package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.length;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Reductions: sum and sum of squares of a whole tensor (for clipping by the global norm), and
 * the column sums that are the backward of a broadcast add.
 *
 * <p>Dimension legend: {@code N} rows, {@code M} columns (the size of the broadcast operand).
 *
 * <p>All accumulate in double. C2 does not vectorise a floating-point reduction (it would change
 * the order of the additions), so the whole-tensor sums keep four independent accumulators to
 * overlap the latency of the additions; the column sums accumulate a row of doubles at a time,
 * a loop C2 does vectorise. Parts are reduced separately and combined in part order, so a result
 * is the same on every run for a given thread count.
 */
final class ReductionKernels {

    private final Parallel parallel;

    ReductionKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** {@code sum_i x[i]} (or {@code x[i]^2}), N elements, in double. */
    double sum(MemorySegment x, long n, boolean squares) {
        int parts = parallel.parts(n, GRAIN);
        double[] partial = new double[Math.max(1, parts)];
        parallel.forParts(parts, n, (part, from, to, s) -> {
            float[] t = s.floats(0, TILE);
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(x, i, t, len);
                int j = 0;
                if (squares) {
                    for (; j + 4 <= len; j += 4) {
                        double v0 = t[j];
                        double v1 = t[j + 1];
                        double v2 = t[j + 2];
                        double v3 = t[j + 3];
                        s0 += v0 * v0;
                        s1 += v1 * v1;
                        s2 += v2 * v2;
                        s3 += v3 * v3;
                    }
                    for (; j < len; j++) {
                        double v = t[j];
                        s0 += v * v;
                    }
                } else {
                    for (; j + 4 <= len; j += 4) {
                        s0 += t[j];
                        s1 += t[j + 1];
                        s2 += t[j + 2];
                        s3 += t[j + 3];
                    }
                    for (; j < len; j++) {
                        s0 += t[j];
                    }
                }
            }
            partial[part] = (s0 + s1) + (s2 + s3);
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    /** {@code out[j] += sum_i x[i, j]}: x (N, M), out (M). */
    void sumRows(MemorySegment x, long total, MemorySegment out, int cols) {
        if (cols <= 0) {
            return;
        }
        long rows = total / cols;
        int colBlocks = (cols + TILE - 1) / TILE;
        if (colBlocks >= parallel.threads() || parallel.parts(rows, Tiles.rowGrain(cols)) <= 1) {
            // enough columns for every thread: each owns whole columns, no partials to combine
            parallel.forRange(colBlocks, 1, (from, to, s) -> {
                float[] t = s.floats(0, TILE);
                double[] acc = s.doubles(0, TILE);
                for (long block = from; block < to; block++) {
                    int c0 = (int) block * TILE;
                    int len = Math.min(TILE, cols - c0);
                    Arrays.fill(acc, 0, len, 0.0);
                    for (long r = 0; r < rows; r++) {
                        load(x, r * cols + c0, t, len);
                        for (int j = 0; j < len; j++) {
                            acc[j] += t[j];
                        }
                    }
                    addInto(out, c0, acc, len, t);
                }
            });
            return;
        }
        // few columns, many rows: each part sums a band of rows, then the bands are added in order
        int parts = parallel.parts(rows, Tiles.rowGrain(cols));
        double[][] partial = new double[parts][cols];
        parallel.forParts(parts, rows, (part, from, to, s) -> {
            float[] t = s.floats(0, TILE);
            double[] acc = partial[part];
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int len = Math.min(TILE, cols - c0);
                for (long r = from; r < to; r++) {
                    load(x, r * cols + c0, t, len);
                    for (int j = 0; j < len; j++) {
                        acc[c0 + j] += t[j];
                    }
                }
            }
        });
        double[] acc = partial[0];
        for (int p = 1; p < parts; p++) {
            double[] other = partial[p];
            for (int j = 0; j < cols; j++) {
                acc[j] += other[j];
            }
        }
        float[] t = new float[Math.min(TILE, cols)];
        for (int c0 = 0; c0 < cols; c0 += TILE) {
            int len = Math.min(TILE, cols - c0);
            double[] block = Arrays.copyOfRange(acc, c0, c0 + len);
            addInto(out, c0, block, len, t);
        }
    }

    /** {@code out[c0 + j] += (float) acc[j]} for {@code j < len}. */
    private static void addInto(MemorySegment out, long c0, double[] acc, int len, float[] t) {
        load(out, c0, t, len);
        for (int j = 0; j < len; j++) {
            t[j] += (float) acc[j];
        }
        store(t, len, out, c0);
    }
}
