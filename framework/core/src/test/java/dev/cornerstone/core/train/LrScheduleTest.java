package dev.cornerstone.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void warmupThenCosineToTheFloor() {
        LrSchedule s = new LrSchedule.WarmupCosine(1e-3f, 1e-4f, 10, 110);
        assertThat(s.at(1)).isCloseTo(1e-4f, within(1e-9f));
        assertThat(s.at(10)).isCloseTo(1e-3f, within(1e-9f));
        assertThat(s.at(60)).isCloseTo(5.5e-4f, within(1e-7f)); // half way: the mean of lr and min
        assertThat(s.at(110)).isCloseTo(1e-4f, within(1e-9f));
        assertThat(s.at(500)).isCloseTo(1e-4f, within(1e-9f));
        for (int i = 11; i < 110; i++) {
            assertThat(s.at(i + 1)).isLessThanOrEqualTo(s.at(i));
        }
    }

    @Test
    void constantIsConstant() {
        assertThat(new LrSchedule.Constant(3e-4f).at(1)).isEqualTo(new LrSchedule.Constant(3e-4f).at(999));
    }
}
