package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.cornerstone.core.config.Json;
import org.junit.jupiter.api.Test;

class FineTuneSpecTest {

    static Map<String, Object> spec(String... yamlishPairs) {
        Map<String, Object> s = Fixtures.spec(Path.of("/runs/pre"), Path.of("/data/set.jsonl"), "full", 10);
        for (int i = 0; i < yamlishPairs.length; i += 2) {
            String[] key = yamlishPairs[i].split("\\.");
            @SuppressWarnings("unchecked")
            Map<String, Object> section = (Map<String, Object>) s.computeIfAbsent(key[0], k -> new LinkedHashMap<>());
            if (yamlishPairs[i + 1] == null) {
                section.remove(key[1]);
            } else {
                section.put(key[1], yamlishPairs[i + 1]);
            }
        }
        return s;
    }

    static void refused(Map<String, Object> spec, String message) {
        assertThatThrownBy(() -> FineTuneSpec.from(spec)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void defaultsAndTheResolvedSpecReadsBackTheSame() {
        FineTuneSpec s = FineTuneSpec.from(spec());
        assertThat(s.mode()).isEqualTo(FineTuneSpec.Mode.FULL);
        assertThat(s.pooling()).as("as Fixtures.spec says").isEqualTo(FineTuneSpec.Pooling.LAST);
        Map<String, Object> noPooling = spec();
        ((Map<String, Object>) noPooling.get("finetune")).remove("pooling");
        assertThat(FineTuneSpec.from(noPooling).pooling()).as("the default").isEqualTo(FineTuneSpec.Pooling.MEAN);
        assertThat(s.data().maxTokens()).isZero();
        assertThat(s.train().gradClip()).isEqualTo(1.0f);
        assertThat(s.backendName()).isEqualTo("cpu");
        assertThat(s.bodyLrScale()).as("the body learns at the head's rate unless told").isEqualTo(1.0);
        assertThat(FineTuneSpec.from(spec("finetune.body_lr_scale", "0.1")).toMap().get("finetune"))
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("body_lr_scale", 0.1);
        Map<String, Object> stored = s.toMap();
        @SuppressWarnings("unchecked")
        Map<String, Object> read = (Map<String, Object>) Json.read(Json.write(stored, true), "spec.json");
        assertThat(Json.write(FineTuneSpec.from(read).toMap(), false)).isEqualTo(Json.write(stored, false));
    }

    @Test
    void everyMistakeNamesItsKey() {
        Map<String, Object> extra = spec();
        extra.put("fine_tune", Map.of());
        refused(extra, "fine_tune is not a section of a fine-tuning spec");
        refused(spec("finetune.mode", "partial"), "finetune.mode: 'partial' is not allowed; expected one of full, freeze, lora");
        refused(spec("finetune.pooling", "max"), "finetune.pooling: 'max' is not allowed");
        refused(spec("finetune.mode", "freeze"), "finetune.freeze: mode freeze needs at least one");
        Map<String, Object> freezeFull = spec();
        ((Map<String, Object>) freezeFull.get("finetune")).put("freeze", List.of("wte"));
        refused(freezeFull, "finetune.freeze: only means something with finetune.mode: freeze");
        refused(spec("finetune.from", null), "finetune.from is required");
        Map<String, Object> withModel = spec();
        withModel.put("model", Map.of("name", "gpt"));
        refused(withModel, "model: the model comes from finetune.from");
        Map<String, Object> withLora = spec();
        withLora.put("lora", Map.of("rank", 4));
        refused(withLora, "lora: only means something with finetune.mode: lora");
        refused(spec("data.path", null), "data.path is required");
        refused(spec("data.val_fraction", "0"), "data.val_fraction: '0' is not allowed; expected a number in [0.01, 0.9]");
        refused(spec("data.tokenizer", "byte"), "data.tokenizer: the tokenizer comes from finetune.from");
        refused(spec("data.labels", "spam"), "data.labels");
        refused(spec("data.max_len", "8"), "data.max_len is not a known key");
        refused(spec("train.epochs", "3"), "train.epochs is not a known key");
        refused(spec("train.batch_size", "0"), "train.batch_size: '0' is not allowed");
        refused(spec("backend.threads", "2"), "backend.threads is not a key of the backend section");
        refused(spec("finetune.freeze_all", "x"), "finetune.freeze_all is not a known key");
        refused(spec("finetune.body_lr_scale", "0"), "finetune.body_lr_scale: 0.0 is not allowed; expected a number "
                + "in (0, 1]");
        refused(spec("finetune.body_lr_scale", "2"), "finetune.body_lr_scale: '2' is not allowed");
    }

    @Test
    void aScratchSpecHasAModelAndATokenizer() {
        Map<String, Object> s = Fixtures.spec(null, Path.of("/d.jsonl"), "full", 5);
        FineTuneSpec spec = FineTuneSpec.from(s);
        assertThat(spec.fromScratch()).isTrue();
        assertThat(spec.data().tokenizer()).isEqualTo("byte");
        assertThat(spec.model()).containsEntry("name", "gpt").containsEntry("n_embd", 32);
        ((Map<String, Object>) s.get("data")).put("tokenizer", "bpe");
        refused(s, "data.tokenizer: 'bpe' is not allowed; expected one of byte, char");
    }
}
