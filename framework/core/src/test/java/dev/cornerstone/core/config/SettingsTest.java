package dev.cornerstone.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SettingsTest {

    @Test
    void readsTypedValuesWithDefaultsAndRecordsThem() {
        Settings s = new Settings("model", Map.of("n_layer", 6L, "dropout", 0.1, "bias", false, "betas", List.of(0.9,
                0.95)));
        assertThat(s.integer("n_layer", 4, 1, 64)).isEqualTo(6);
        assertThat(s.integer("n_head", 4, 1, 64)).isEqualTo(4);
        assertThat(s.number("dropout", 0, 0, 1)).isEqualTo(0.1);
        assertThat(s.bool("bias", true)).isFalse();
        assertThat(s.numbers("betas", new double[] {0, 0}, 2, 0, 1)).containsExactly(0.9, 0.95);
        assertThat(s.finish()).containsEntry("n_head", 4).containsEntry("n_layer", 6);
    }

    @Test
    void errorsNameTheKeyTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> new Settings("model", Map.of("n_head", "four")).integer("n_head", 4, 1, 64))
                .hasMessage("model.n_head: 'four' is not allowed; expected an integer in [1, 64]");
        assertThatThrownBy(() -> new Settings("model", Map.of("n_head", 2.5)).integer("n_head", 4, 1, 64))
                .hasMessageContaining("model.n_head: 2.5");
        assertThatThrownBy(() -> new Settings("train", Map.of("lr_schedule", "linear"))
                .choice("lr_schedule", "constant", "constant", "cosine"))
                .hasMessageContaining("train.lr_schedule: 'linear'").hasMessageContaining("one of constant, cosine");
        Settings s = new Settings("optimizer", Map.of("lr", 1e-3, "betaz", 1));
        s.number("lr", 1e-3, 0, 1);
        assertThatThrownBy(s::finish).hasMessageContaining("optimizer.betaz is not a known key")
                .hasMessageContaining("lr");
    }
}
