package dev.cornerstone.core.data;

import java.util.SplittableRandom;

import dev.cornerstone.core.random.Seeds;

/**
 * Batches of (input, target) windows from a token stream, as nanoGPT's {@code get_batch}:
 * each row is {@code blockSize + 1} consecutive tokens at a random offset; targets are
 * inputs shifted by one. Every offset is an independent uniform draw, as nanoGPT's
 * {@code torch.randint}. Deterministic and resumable: batch {@code k} of a seed is always
 * the same, whatever came before, so the loader's whole state is the index of the next
 * batch ({@link #position()}). Batch {@code k} draws from its own generator, seeded with
 * {@link Seeds#derive}{@code (seed, k)}, so no two batches share draws.
 */
public final class TokenBatcher {

    private final int[] tokens;
    private final int batchSize;
    private final int blockSize;
    private final long seed;
    private long position;

    public TokenBatcher(int[] tokens, int batchSize, int blockSize, long seed) {
        if (tokens.length < blockSize + 2) {
            throw new IllegalArgumentException("a token stream of " + tokens.length + " tokens is too short for "
                    + "block_size " + blockSize + " (needs at least " + (blockSize + 2) + ")");
        }
        if (batchSize < 1 || blockSize < 1) {
            throw new IllegalArgumentException("batch_size and block_size must be positive, got " + batchSize + ", "
                    + blockSize);
        }
        this.tokens = tokens;
        this.batchSize = batchSize;
        this.blockSize = blockSize;
        this.seed = seed;
    }

    /** One batch: {@code inputs} and {@code targets}, each batchSize × blockSize, row-major. */
    public record Batch(int[] inputs, int[] targets, int batchSize, int blockSize) {
    }

    /** The next batch; advances the position. */
    public Batch next() {
        return batch(position++);
    }

    /** Batch number {@code index} of this seed. */
    public Batch batch(long index) {
        SplittableRandom rnd = new SplittableRandom(Seeds.derive(seed, index));
        int[] x = new int[batchSize * blockSize];
        int[] y = new int[batchSize * blockSize];
        int maxStart = tokens.length - blockSize - 1;
        for (int b = 0; b < batchSize; b++) {
            int start = rnd.nextInt(maxStart + 1);
            System.arraycopy(tokens, start, x, b * blockSize, blockSize);
            System.arraycopy(tokens, start + 1, y, b * blockSize, blockSize);
        }
        return new Batch(x, y, batchSize, blockSize);
    }

    public long position() {
        return position;
    }

    public void seek(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("data position " + position + " is negative");
        }
        this.position = position;
    }
}
