package dev.cornerstone.finetune;

import java.util.SplittableRandom;

import dev.cornerstone.core.random.Seeds;

/**
 * Which texts make batch k: the training texts are walked epoch by epoch, each epoch in its own
 * order, shuffled from the seed and the epoch number (Fisher-Yates); batch k holds texts
 * {@code k·B .. k·B+B-1} of that endless walk. So every text is seen once per epoch, and batch
 * k is always the same for a seed, whatever came before: the loader's whole state is the
 * index of the next batch.
 */
final class ExampleOrder {

    private final int n;
    private final int batchSize;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] order;

    ExampleOrder(int n, int batchSize, long seed) {
        if (n < 1 || batchSize < 1) {
            throw new IllegalArgumentException("an order needs texts and a batch size, got " + n + " and " + batchSize);
        }
        this.n = n;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    int[] batch(long k) {
        int[] out = new int[batchSize];
        for (int j = 0; j < batchSize; j++) {
            long at = k * batchSize + j;
            out[j] = epoch(at / n)[(int) (at % n)];
        }
        return out;
    }

    private int[] epoch(long e) {
        if (e != cachedEpoch) {
            int[] o = new int[n];
            for (int i = 0; i < n; i++) {
                o[i] = i;
            }
            SplittableRandom r = new SplittableRandom(Seeds.derive(seed, e));
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
            order = o;
            cachedEpoch = e;
        }
        return order;
    }
}
