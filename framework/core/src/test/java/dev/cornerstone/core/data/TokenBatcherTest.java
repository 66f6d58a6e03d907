package dev.cornerstone.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void tooShortStreamIsRefused() {
        assertThatThrownBy(() -> new TokenBatcher(stream(10), 1, 16, 0)).hasMessageContaining("block_size 16");
    }
}
