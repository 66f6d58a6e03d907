package dev.cornerstone.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class TokenBatcherTest {

    static int[] stream(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = i;
        }
        return t;
    }

    @Test
    void targetsAreInputsShiftedByOne() {
        TokenBatcher b = new TokenBatcher(stream(1000), 4, 8, 1);
        TokenBatcher.Batch batch = b.next();
        for (int r = 0; r < 4; r++) {
            for (int t = 0; t < 8; t++) {
                assertThat(batch.targets()[r * 8 + t]).isEqualTo(batch.inputs()[r * 8 + t] + 1);
            }
        }
    }

    @Test
    void sameSeedSameBatchesAndSeekResumesExactly() {
        TokenBatcher a = new TokenBatcher(stream(5000), 3, 16, 42);
        TokenBatcher b = new TokenBatcher(stream(5000), 3, 16, 42);
        for (int i = 0; i < 5; i++) {
            a.next();
        }
        b.seek(5);
        assertThat(b.next().inputs()).isEqualTo(a.next().inputs());
        assertThat(new TokenBatcher(stream(5000), 3, 16, 43).batch(0).inputs()).isNotEqualTo(a.batch(0).inputs());
    }

    /**
     * Every window is an independent uniform draw, as torch.randint in nanoGPT's get_batch: over
     * 300 batches of 32 rows from a million offsets, chance repeats about 46 windows of 9,600.
     * The first sampler seeded batch k's SplittableRandom with seed ^ (k+1)γ, γ being that
     * generator's own increment, so batch k+1 replayed batch k's draws one row on and a third of
     * all windows were repeats: less data per step, and a worse model after 2,000 steps.
     */
    @Test
    void windowsOfDifferentBatchesAreIndependentDraws() {
        TokenBatcher b = new TokenBatcher(stream(1_000_065), 32, 64, 1337);
        Set<Integer> starts = new HashSet<>();
        int draws = 0;
        int sharedWithNext = 0;
        for (int k = 0; k < 300; k++) {
            int[] x = b.batch(k).inputs();
            Set<Integer> next = new HashSet<>();
            int[] y = b.batch(k + 1).inputs();
            for (int r = 0; r < 32; r++) {
                next.add(y[r * 64]);
            }
            for (int r = 0; r < 32; r++) {
                starts.add(x[r * 64]);
                draws++;
                if (next.contains(x[r * 64])) {
                    sharedWithNext++;
                }
            }
        }
        assertThat(draws - starts.size()).as("repeated windows in %d draws (chance: about 46)", draws)
                .isLessThan(100);
        assertThat(sharedWithNext).as("rows of a batch drawn again by the next batch").isLessThan(5);
    }

    @Test
    void offsetsCoverTheStreamUniformly() {
        int n = 10_000;
        TokenBatcher b = new TokenBatcher(stream(n + 9), 50, 8, 7);
        int[] bins = new int[10];
        for (int k = 0; k < 400; k++) {
            int[] x = b.batch(k).inputs();
            for (int r = 0; r < 50; r++) {
                bins[x[r * 8] * 10 / (n + 1)]++;
            }
        }
        // 20,000 draws, 2,000 per bin expected; chi-square with 9 degrees of freedom, 27.9 at p = 0.001
        double chi2 = 0;
        for (int c : bins) {
            chi2 += (c - 2000.0) * (c - 2000.0) / 2000.0;
        }
        assertThat(chi2).as("chi-square of %s", Arrays.toString(bins)).isLessThan(27.9);
    }

    @Test
    void tooShortStreamIsRefused() {
        assertThatThrownBy(() -> new TokenBatcher(stream(10), 1, 16, 0)).hasMessageContaining("block_size 16");
    }
}
