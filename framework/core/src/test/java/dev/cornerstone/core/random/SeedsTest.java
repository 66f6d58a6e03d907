package dev.cornerstone.core.random;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class SeedsTest {

    /** derive(seed, k) is output k of SplittableRandom seeded with mix64(seed), as the Javadoc says. */
    @Test
    void deriveIsOutputKOfTheGeneratorOfTheFinalisedSeed() {
        SplittableRandom r = new SplittableRandom(Seeds.mix64(1337));
        for (int k = 0; k < 5; k++) {
            assertThat(Seeds.derive(1337, k)).isEqualTo(r.nextLong());
        }
    }

    /** The streams seeded by neighbouring counters and neighbouring seeds share no value. */
    @Test
    void streamsOfNeighbouringCountersAndSeedsDoNotOverlap() {
        Set<Long> seen = new HashSet<>();
        int draws = 0;
        for (long seed = 1336; seed <= 1338; seed++) {
            for (int k = 0; k < 200; k++) {
                SplittableRandom r = new SplittableRandom(Seeds.derive(seed, k));
                for (int i = 0; i < 64; i++) {
                    seen.add(r.nextLong());
                    draws++;
                }
            }
        }
        assertThat(seen).hasSize(draws);
    }
}
