package dev.cornerstone.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The checks' warm-up: the iterations asked for, then more while a rank's JIT was compiling, bounded. */
class DiagnosticsWarmUpTest {

    @Test
    void noWarmUpAskedMeansNone() {
        assertThat(new Diagnostics.WarmUp(0).over()).isTrue();
    }

    @Test
    void goesOnWhileAnyRankCompiledAndStopsAtTheFirstQuietIteration() {
        Diagnostics.WarmUp w = new Diagnostics.WarmUp(2);
        w.iterationDone(false);
        assertThat(w.over()).as("one of two asked").isFalse();
        w.iterationDone(true);
        assertThat(w.over()).as("the second compiled").isFalse();
        w.iterationDone(true);
        assertThat(w.over()).isFalse();
        w.iterationDone(false);
        assertThat(w.over()).isTrue();
        assertThat(w.iterations()).isEqualTo(4);
        w.iterationDone(true); // timed iterations no longer count
        assertThat(w.over()).isTrue();
        assertThat(w.iterations()).isEqualTo(4);
    }

    @Test
    void aCompilerThatNeverRestsEndsTheWarmUpAtTheBound() {
        Diagnostics.WarmUp w = new Diagnostics.WarmUp(3);
        int n = 0;
        while (!w.over()) {
            w.iterationDone(true);
            n++;
        }
        assertThat(n).isEqualTo(3 + Diagnostics.WarmUp.MAX_EXTRA);
    }
}
