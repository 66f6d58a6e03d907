package dev.cornerstone.cluster.parallel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

import org.junit.jupiter.api.Test;

import dev.cornerstone.cluster.parallel.BucketPlan.Bucket;

/** Gradient buckets: consecutive in the order given, closed at the size, a large parameter alone. */
class BucketPlanTest {

    static SequencedMap<String, Integer> sizes(Object... nameAndElements) {
        SequencedMap<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < nameAndElements.length; i += 2) {
            m.put((String) nameAndElements[i], (Integer) nameAndElements[i + 1]);
        }
        return m;
    }

    @Test
    void bucketsAreConsecutiveInTheGivenOrderAndCloseOnceFull() {
        // 100 elements = 400 bytes a bucket
        BucketPlan p = BucketPlan.of(sizes("ln_f.bias", 30, "ln_f.weight", 30, "h.1.mlp.c_proj.bias", 50,
                "h.1.mlp.c_fc.bias", 60, "h.1.ln_2.weight", 40, "h.0.bias", 10), 400);
        assertThat(p.buckets()).containsExactly(
                new Bucket(0, 110, List.of("ln_f.bias", "ln_f.weight", "h.1.mlp.c_proj.bias")), // 60 < 100, 110 >= 100
                new Bucket(110, 100, List.of("h.1.mlp.c_fc.bias", "h.1.ln_2.weight")),
                new Bucket(210, 10, List.of("h.0.bias"))); // the rest
        assertThat(p.names()).containsExactly("ln_f.bias", "ln_f.weight", "h.1.mlp.c_proj.bias", "h.1.mlp.c_fc.bias",
                "h.1.ln_2.weight", "h.0.bias");
        assertThat(p.totalElements()).isEqualTo(220);
        assertThat(p.offset(p.indexOf("h.1.ln_2.weight"))).isEqualTo(170);
        assertThat(p.bucketOf(p.indexOf("h.1.ln_2.weight"))).isEqualTo(1);
        assertThat(p.indexOf("wte")).isEqualTo(-1);
    }

    @Test
    void aParameterLargerThanABucketGetsABucketOfItsOwn() {
        BucketPlan p = BucketPlan.of(sizes("a", 20, "wte", 1000, "b", 20, "c", 100, "d", 5), 400);
        assertThat(p.buckets()).containsExactly(
                new Bucket(0, 20, List.of("a")),        // closed early: wte goes alone
                new Bucket(20, 1000, List.of("wte")),
                new Bucket(1020, 20, List.of("b")),     // c (exactly one bucket's size) goes alone too
                new Bucket(1040, 100, List.of("c")),
                new Bucket(1140, 5, List.of("d")));
        assertThat(BucketPlan.of(sizes("wte", 1000), 400).buckets())
                .containsExactly(new Bucket(0, 1000, List.of("wte")));
    }

    @Test
    void oneHugeBucketHoldsEverythingAndTheSameInputMakesTheSamePlan() {
        SequencedMap<String, Integer> s = sizes("a", 20, "b", 30, "c", 40);
        BucketPlan p = BucketPlan.of(s, DataParallelSync.DEFAULT_BUCKET_BYTES);
        assertThat(p.buckets()).containsExactly(new Bucket(0, 90, List.of("a", "b", "c")));
        assertThat(BucketPlan.of(s, DataParallelSync.DEFAULT_BUCKET_BYTES).fingerprint()).isEqualTo(p.fingerprint());
        assertThat(BucketPlan.of(sizes("b", 30, "a", 20, "c", 40), DataParallelSync.DEFAULT_BUCKET_BYTES).fingerprint())
                .as("another order").isNotEqualTo(p.fingerprint());
        assertThatThrownBy(() -> BucketPlan.of(s, 2)).hasMessageContaining("cluster.bucket_bytes: 2");
    }
}
