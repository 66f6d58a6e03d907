package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void precisionRecallF1AndTheConfusionMatrixByHand() {
        // truth:     ham ham ham ham spam spam spam
        // predicted: ham ham spam ham spam ham  spam
        Metrics m = Metrics.of(List.of("ham", "spam"), new int[] {0, 0, 0, 0, 1, 1, 1},
                new int[] {0, 0, 1, 0, 1, 0, 1}, 0.5);
        assertThat(m.confusion()).isDeepEqualTo(new long[][] {{3, 1}, {1, 2}});
        assertThat(m.accuracy()).isCloseTo(5.0 / 7, within(1e-12));
        assertThat(m.precision(1)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(m.recall(1)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(m.precision(0)).isCloseTo(3.0 / 4, within(1e-12));
        assertThat(m.recall(0)).isCloseTo(3.0 / 4, within(1e-12));
        assertThat(m.f1("spam")).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(m.macroF1()).isCloseTo((2.0 / 3 + 3.0 / 4) / 2, within(1e-12));
        Map<String, Object> row = m.toMap();
        assertThat(row).containsEntry("val_loss", 0.5).containsEntry("examples", 7L);
        assertThat(row.get("f1")).isEqualTo(Map.of("ham", 0.75, "spam", 0.666667));
        assertThat(row.get("confusion")).isEqualTo(Map.of("labels", List.of("ham", "spam"),
                "matrix", List.of(List.of(3L, 1L), List.of(1L, 2L))));
    }

    @Test
    void aClassNeverPredictedHasPrecisionAndF1Zero() {
        Metrics m = Metrics.of(List.of("ham", "spam"), new int[] {0, 0, 1}, new int[] {0, 0, 0}, 0.1);
        assertThat(m.precision(1)).isZero();
        assertThat(m.recall(1)).isZero();
        assertThat(m.f1(1)).isZero();
        assertThat(m.accuracy()).isCloseTo(2.0 / 3, within(1e-12));
    }
}
