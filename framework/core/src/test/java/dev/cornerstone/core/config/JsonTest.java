package dev.cornerstone.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void roundTrip() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", 500);
        m.put("loss", 1.5);
        m.put("names", List.of("a", "b"));
        m.put("nested", Map.of("ok", true));
        m.put("none", null);
        Object back = Json.read(Json.write(m, true), "test");
        assertThat(back).isEqualTo(Map.of("step", 500L, "loss", 1.5, "names", List.of("a", "b"), "nested",
                Map.of("ok", true), "none", java.util.Optional.empty()).entrySet().stream()
                .collect(LinkedHashMap::new, (x, e) -> x.put(e.getKey(), e.getValue() instanceof java.util.Optional<?>
                        ? null : e.getValue()), Map::putAll));
    }

    @Test
    void errorsNameTheSource() {
        assertThatThrownBy(() -> Json.read("{\"a\": ", "runs/x/trainer.json"))
                .hasMessageContaining("runs/x/trainer.json");
    }
}
