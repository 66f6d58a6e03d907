package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.I32;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Embedding lookup and its scatter-add backward, as llm.c's {@code encoder_forward} /
 * {@code encoder_backward} for one table.
 *
 * <p>Dimension legend: {@code N} ids (B·T), {@code V} rows of the table, {@code C} channels.
 *
 * <p>The backward must not let two threads add into the same table row at once, and should add
 * in the same order on every run: part p of P takes the ids with {@code id mod P == p}, in row
 * order, so each table row is owned by one part and receives its gradients in index order.
 */
final class EmbeddingKernels {

    private final Parallel parallel;

    EmbeddingKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /** out (N, C) = table (V, C) [ids (N)]. */
    void embeddingForward(MemorySegment ids, MemorySegment table, MemorySegment out, long n, int c) {
        long rowBytes = (long) c * Float.BYTES;
        parallel.forRange(n, Tiles.rowGrain(c), (from, to, s) -> {
            for (long i = from; i < to; i++) {
                long id = ids.getAtIndex(I32, i);
                MemorySegment.copy(table, id * rowBytes, out, i * rowBytes, rowBytes);
            }
        });
    }

    /** dtable (V, C) [ids[i]] += dout (N, C) [i]. */
    void embeddingBackward(MemorySegment ids, MemorySegment dout, MemorySegment dtable, long n, int c) {
        int parts = parallel.parts(n, Tiles.rowGrain(c));
        parallel.forParts(parts, parts, (part, from, to, s) -> {
            float[] td = s.floats(0, Math.min(c, TILE));
            float[] tt = s.floats(1, Math.min(c, TILE));
            for (long i = 0; i < n; i++) {
                int id = ids.getAtIndex(I32, i);
                if (Math.floorMod(id, parts) != part) {
                    continue;
                }
                for (int c0 = 0; c0 < c; c0 += TILE) {
                    int len = Math.min(TILE, c - c0);
                    load(dout, i * c + c0, td, len);
                    load(dtable, (long) id * c + c0, tt, len);
                    for (int j = 0; j < len; j++) {
                        tt[j] += td[j];
                    }
                    store(tt, len, dtable, (long) id * c + c0);
                }
            }
        });
    }
}
