package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.data.text.CharTokenizer;
import dev.cornerstone.data.text.TokenizerDescriptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input is refused with a message that names the file and the line (or the spec key), in
 * training and in prediction; and text the tokenizer never saw is classified, not refused.
 */
class BadInputTest {

    @TempDir
    static Path tmp;
    static CpuBackend be;
    static Path data;
    /** A small classifier trained from scratch, to predict with. */
    static Path run;

    @BeforeAll
    static void train() throws Exception {
        be = new CpuBackend(2);
        data = Fixtures.spamSubset(tmp.resolve("subset.jsonl"), 40, 40);
        run = tmp.resolve("run");
        FineTuneService.finetune(request(Fixtures.spec(null, data, "full", 3), run), Fixtures.providers(be), Map.of());
    }

    @AfterAll
    static void close() {
        assertThat(be.liveTensors()).isZero();
        be.close();
    }

    static Map<String, Object> request(Map<String, Object> spec, Path out) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("command", "finetune");
        r.put("spec", spec);
        r.put("out", out.toString());
        r.put("base", tmp.toString());
        return r;
    }

    static Path write(String name, String content) throws Exception {
        return Files.writeString(tmp.resolve(name), content, StandardCharsets.UTF_8);
    }

    static Map<String, Object> predict(String key, String value) throws Exception {
        return FineTuneService.predict(new LinkedHashMap<>(Map.of("run", run.toString(), key, value)),
                Fixtures.providers(be));
    }

    static void finetuneRefused(Path dataFile, String message) {
        assertThatThrownBy(() -> FineTuneService.finetune(request(Fixtures.spec(null, dataFile, "full", 1),
                tmp.resolve("never-" + dataFile.getFileName())), Fixtures.providers(be), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void aTrainingLineWithoutTextOrLabelNamesTheFileAndTheLine() throws Exception {
        Path noLabel = write("no-label.jsonl", "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\"}\n");
        finetuneRefused(noLabel, "data.path: " + noLabel + " line 2: field \"label\" is missing");
        Path noText = write("no-text.jsonl", "{\"text\": \"a\", \"label\": \"ham\"}\n\n{\"label\": \"spam\"}\n");
        finetuneRefused(noText, "data.path: " + noText + " line 3: field \"text\" is missing");
    }

    @Test
    void anEmptyFileNamesTheFile() throws Exception {
        Path empty = write("empty.jsonl", "");
        finetuneRefused(empty, "data.path: " + empty + ": no records");
        assertThatThrownBy(() -> predict("input", empty.toString())).hasMessageContaining(empty + ": no records");
    }

    @Test
    void labelsThatCannotBeLearnedAreNamed() throws Exception {
        StringBuilder one = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            one.append("{\"id\": \"").append(i).append("\", \"text\": \"t").append(i).append("\", \"label\": \"ham\"}\n");
        }
        Path oneClass = write("one-class.jsonl", one.toString());
        finetuneRefused(oneClass, "has only the label [ham]; a classifier needs at least two classes");
        Map<String, Object> spec = Fixtures.spec(null, data, "full", 1);
        ((Map<String, Object>) spec.get("data")).put("labels", List.of("ham", "eggs"));
        assertThatThrownBy(() -> FineTuneService.finetune(request(spec, tmp.resolve("never-labels")),
                Fixtures.providers(be), Map.of()))
                .hasMessageContaining(data + " line ").hasMessageContaining("label 'spam' is not one of the classes: ham, eggs");
    }

    @Test
    void anUnknownLabelAtPredictionNamesTheFileAndTheLine() throws Exception {
        Path input = write("predict.jsonl", "{\"text\": \"hello\", \"label\": \"ham\"}\n{\"text\": \"x\", \"label\": \"eggs\"}\n");
        assertThatThrownBy(() -> predict("input", input.toString()))
                .hasMessageContaining(input + " line 2: label 'eggs' is not one of the classes this model predicts: "
                        + "ham, spam");
        Path noText = write("predict-no-text.jsonl", "{\"text\": \"hello\"}\n{\"id\": \"7\"}\n");
        assertThatThrownBy(() -> predict("input", noText.toString()))
                .hasMessageContaining(noText + " line 2: field \"text\" is missing");
    }

    @Test
    void predictionsComeInInputOrderWithProbabilities() throws Exception {
        Path input = write("in.jsonl", "{\"id\": \"a\", \"text\": \"<html><body>BUY NOW</body></html>\"}\n"
                + "{\"text\": \"\"}\n{\"id\": \"c\", \"text\": \"see you at lunch \\ud83d\\ude00\", \"label\": \"ham\"}\n");
        Map<String, Object> r = predict("input", input.toString());
        List<Map<String, Object>> p = (List<Map<String, Object>>) r.get("predictions");
        assertThat(p).hasSize(3);
        assertThat(p.get(0)).containsEntry("id", "a").containsKeys("label", "probabilities");
        assertThat(p.get(1)).doesNotContainKey("id");
        assertThat(p.get(2)).containsEntry("id", "c");
        for (Map<String, Object> one : p) {
            Map<String, Double> probs = (Map<String, Double>) one.get("probabilities");
            assertThat(probs.keySet()).containsExactly("ham", "spam");
            assertThat(probs.values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0,
                    org.assertj.core.data.Offset.offset(1e-5));
            assertThat(one.get("label")).isEqualTo(probs.get("spam") > probs.get("ham") ? "spam" : "ham");
        }
        assertThat(r).containsEntry("labelled", 1);
        Map<String, Object> one = predict("text", "Dear friend, you have WON $1,000,000");
        assertThat((List<?>) one.get("predictions")).hasSize(1);
    }

    @Test
    void aCharVocabularyMapsCharactersItNeverSawToItsUnknownId() throws Exception {
        Path pre = Fixtures.pretrain(be, tmp.resolve("char"), null, "char", 2);   // Moby Dick only
        Map<?, ?> tok = (Map<?, ?>) Json.read(Files.readString(pre.resolve("tokenizer.json")), "tokenizer.json");
        assertThat((String) tok.get("chars")).doesNotContain("<").doesNotContain("\u00e9");
        assertThat(tok.get("unk")).as("the vocabulary declares its unknown id").isEqualTo(true);
        CharTokenizer chars = (CharTokenizer) TokenizerDescriptions.rebuild((Map<String, Object>) tok);
        assertThat(chars.encode("<\u00e9")).containsExactly(chars.unknownId(), chars.unknownId());
        Path out = tmp.resolve("char-run");
        Map<String, Object> summary = FineTuneService.finetune(request(Fixtures.spec(pre, data, "full", 2), out),
                Fixtures.providers(be), Map.of());
        assertThat(summary).containsKey("accuracy");
        Map<String, Object> r = FineTuneService.predict(new LinkedHashMap<>(Map.of("run", out.toString(), "text",
                "<b>caf\u00e9 \u4e2d\u6587 \ud83d\ude00</b>")), Fixtures.providers(be));
        assertThat((List<?>) r.get("predictions")).hasSize(1);
    }

    @Test
    void badSpecValuesThatNeedTheModelToCheckNameTheirKey() throws Exception {
        Path pre = Fixtures.pretrain(be, tmp.resolve("pre2"), null, "byte", 1);
        Map<String, Object> freeze = Fixtures.spec(pre, data, "freeze", 1);
        ((Map<String, Object>) freeze.get("finetune")).put("freeze", List.of("h.*.attn.c_atn"));
        assertThatThrownBy(() -> FineTuneService.finetune(request(freeze, tmp.resolve("never-freeze")),
                Fixtures.providers(be), Map.of())).hasMessageContaining("finetune.freeze: 'h.*.attn.c_atn' matches nothing");
        Map<String, Object> tokens = Fixtures.spec(pre, data, "full", 1);
        ((Map<String, Object>) tokens.get("data")).put("max_tokens", 65);
        assertThatThrownBy(() -> FineTuneService.finetune(request(tokens, tmp.resolve("never-tokens")),
                Fixtures.providers(be), Map.of())).hasMessageContaining("data.max_tokens: 65 is more than the model's "
                + "block_size 64");
        assertThatThrownBy(() -> FineTuneService.finetune(request(Fixtures.spec(run, data, "full", 1),
                tmp.resolve("never-from")), Fixtures.providers(be), Map.of()))
                .hasMessageContaining(run + " is a fine-tuning run; a pre-training run is needed here");
        Map<String, Object> lora = Fixtures.spec(pre, data, "lora", 1);
        lora.put("lora", Map.of("rank", 0));
        assertThatThrownBy(() -> FineTuneService.finetune(request(lora, tmp.resolve("never-lora")),
                Fixtures.providers(be), Map.of())).hasMessageContaining("lora.rank: 0 is not allowed");
        assertThatThrownBy(() -> FineTuneService.merge(new LinkedHashMap<>(Map.of("run", run.toString(), "out",
                tmp.resolve("never-merged").toString())), Fixtures.providers(be)))
                .hasMessageContaining("is not a LoRA fine-tuning run (mode full)");
        assertThat(tmp.resolve("never-freeze")).doesNotExist();
    }
}
