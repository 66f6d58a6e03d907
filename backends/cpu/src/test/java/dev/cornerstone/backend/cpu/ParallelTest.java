package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The parallel loop: covers the range exactly once, propagates failures, nests inline. */
class ParallelTest {

    @Test
    void everyItemRunsExactlyOnce() {
        try (Parallel parallel = new Parallel(3)) {
            for (long n : new long[] {0, 1, 2, 3, 7, 100, 1_000_003}) {
                AtomicLong sum = new AtomicLong();
                AtomicLong count = new AtomicLong();
                parallel.forRange(n, 1, (from, to, s) -> {
                    for (long i = from; i < to; i++) {
                        sum.addAndGet(i);
                    }
                    count.addAndGet(to - from);
                });
                assertThat(count.get()).isEqualTo(n);
                assertThat(sum.get()).isEqualTo(n * (n - 1) / 2);
            }
            assertThat(parallel.parts(1_000_000, 1000)).isEqualTo(3);
            assertThat(parallel.parts(1500, 1000)).isEqualTo(1);
            assertThat(parallel.parts(0, 1)).isZero();
        }
    }

    @Test
    void aFailureInAnyPartReachesTheCaller() {
        try (Parallel parallel = new Parallel(3)) {
            assertThatThrownBy(() -> parallel.forRange(300, 1, (from, to, s) -> {
                if (from > 0) {
                    throw new IllegalStateException("part at " + from);
                }
            })).isInstanceOf(IllegalStateException.class).hasMessageStartingWith("part at");
            // and the pool still works afterwards
            AtomicLong count = new AtomicLong();
            parallel.forRange(300, 1, (from, to, s) -> count.addAndGet(to - from));
            assertThat(count.get()).isEqualTo(300);
        }
    }

    @Test
    void aLoopInsideAPartRunsInline() {
        try (Parallel parallel = new Parallel(2)) {
            ConcurrentHashMap<String, Boolean> threads = new ConcurrentHashMap<>();
            AtomicLong inner = new AtomicLong();
            parallel.forRange(2, 1, (from, to, s) -> {
                threads.put(Thread.currentThread().getName(), true);
                parallel.forRange(1000, 1, (f2, t2, s2) -> inner.addAndGet(t2 - f2));
            });
            assertThat(inner.get()).isEqualTo(2000);
        }
    }

    @Test
    void aClosedPoolRefusesWork() {
        Parallel parallel = new Parallel(2);
        parallel.close();
        assertThatThrownBy(() -> parallel.forRange(10, 1, (from, to, s) -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
