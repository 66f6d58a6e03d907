package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ExampleOrderTest {

    static List<Integer> walk(ExampleOrder o, int batches) {
        List<Integer> all = new ArrayList<>();
        for (int k = 0; k < batches; k++) {
            for (int i : o.batch(k)) {
                all.add(i);
            }
        }
        return all;
    }

    @Test
    void everyTextOncePerEpochEachEpochShuffledAnewAndBatchKAlwaysTheSame() {
        ExampleOrder o = new ExampleOrder(10, 5, 42);
        List<Integer> all = walk(o, 6);   // three epochs
        for (int e = 0; e < 3; e++) {
            assertThat(all.subList(e * 10, e * 10 + 10)).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        }
        assertThat(all.subList(0, 10)).isNotEqualTo(all.subList(10, 20));
        assertThat(new ExampleOrder(10, 5, 42).batch(3)).isEqualTo(o.batch(3));
        assertThat(walk(new ExampleOrder(10, 5, 43), 2)).isNotEqualTo(all.subList(0, 10));
        ExampleOrder odd = new ExampleOrder(7, 3, 1);   // batches straddle epochs
        List<Integer> w = walk(odd, 7);
        assertThat(w.subList(0, 7)).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
        assertThat(w.subList(7, 14)).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
    }
}
