package dev.cornerstone.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class NamePatternTest {

    static final List<String> GPT = List.of("wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight",
            "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight", "h.1.attn.c_attn.weight", "h.10.mlp.c_fc.weight",
            "ln_f.weight");

    static List<String> matched(String pattern) {
        NamePattern p = new NamePattern(pattern);
        return GPT.stream().filter(p::matches).toList();
    }

    @Test
    void aStarIsOneSegmentAndAModuleCoversWhatIsUnderIt() {
        assertThat(matched("h.*.attn.c_attn")).containsExactly("h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
                "h.1.attn.c_attn.weight");
        assertThat(matched("wte")).containsExactly("wte.weight");
        assertThat(matched("h.1")).containsExactly("h.1.attn.c_attn.weight");
        assertThat(matched("h.*.attn.c_*.weight")).containsExactly("h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight",
                "h.1.attn.c_attn.weight");
        assertThat(matched("h.*")).hasSize(6);
        assertThat(matched("attn")).as("a pattern is anchored at the start").isEmpty();
        assertThat(matched("h.1.attn.c_at")).as("a segment matches whole").isEmpty();
    }

    @Test
    void badPatternsAndPatternsThatMatchNothingNameTheKey() {
        assertThatThrownBy(() -> NamePattern.parseAll("finetune.freeze", List.of("h..attn")))
                .hasMessageContaining("finetune.freeze: 'h..attn' is not a name pattern");
        assertThatThrownBy(() -> NamePattern.parseAll("finetune.freeze", List.of(3)))
                .hasMessageContaining("finetune.freeze: 3 is not allowed");
        List<NamePattern> ps = NamePattern.parseAll("lora.target_modules", "h.*.attn.c_atn");
        assertThatThrownBy(() -> NamePattern.requireEachMatches("lora.target_modules", ps, GPT))
                .hasMessageContaining("lora.target_modules: 'h.*.attn.c_atn' matches nothing")
                .hasMessageContaining("h.0.attn.c_attn.weight");
    }
}
