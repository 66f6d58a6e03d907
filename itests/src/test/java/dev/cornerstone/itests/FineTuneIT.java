package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spam example of the distribution, as a user runs it from the distribution's folder,
 * shrunk by --set to a tiny model and a few steps (the test checks the plumbing; the bundles'
 * tests and the benchmark check learning): pre-train with examples/spam/pretrain.yaml, then
 * fine-tune with finetune-full.yaml and finetune-lora.yaml, train scratch.yaml, predict a text
 * and a file, merge the LoRA adapters into a plain GPT that generate takes, and refuse bad
 * input naming the file and the line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FineTuneIT {

    /** A tiny model and few steps for every run of the example specs. */
    static final String[] TINY_MODEL = {"--set", "model.n_layer=1", "--set", "model.n_head=2", "--set",
        "model.n_embd=32", "--set", "model.block_size=32"};
    static final String[] SHORT = {"--set", "train.steps=6", "--set", "train.eval_every=3", "--set",
        "train.log_every=1", "--set", "data.max_tokens=32", "--set", "backend.name=cpu"};

    @TempDir
    static Path tmp;
    static Distribution dist;

    @BeforeAll
    static void pretrain() throws Exception {
        dist = Distribution.copyInto(tmp);
        Distribution.Result r = dist.run(args(List.of("train", "examples/spam/pretrain.yaml", "--out",
                "runs/spam-pretrain", "--set", "train.steps=4", "--set", "train.eval_every=4", "--set",
                "train.eval_batches=1", "--set", "train.batch_size=4", "--set", "backend.name=cpu"), TINY_MODEL));
        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode spec = NodeProcess.JSON.readTree(dist.root.resolve("runs/spam-pretrain/spec.json").toFile());
        assertThat(spec.path("data").path("jsonl_path").asText()).endsWith("data/spamassassin-train.jsonl.gz");
        assertThat(spec.path("model").path("vocab_size").asInt()).isEqualTo(256);
    }

    static String[] args(List<String> head, String[]... more) {
        List<String> a = new ArrayList<>(head);
        for (String[] m : more) {
            a.addAll(List.of(m));
        }
        return a.toArray(String[]::new);
    }

    static JsonNode json(Path file) throws Exception {
        return NodeProcess.JSON.readTree(file.toFile());
    }

    static List<JsonNode> jsonLines(String out) throws Exception {
        List<JsonNode> l = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            l.add(NodeProcess.JSON.readTree(line));
        }
        return l;
    }

    @Test
    @Order(1)
    void fineTuneEveryParameterWithTheExampleSpec() throws Exception {
        Distribution.Result r = dist.run(args(List.of("finetune", "examples/spam/finetune-full.yaml", "--out",
                "runs/spam-full"), SHORT));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("held-out at step 3: accuracy").contains("Done: 6 steps (full)")
                .contains("F1 ham").contains("spam");
        Path run = dist.root.resolve("runs/spam-full");
        for (String f : List.of("spec.json", "model.json", "tokenizer.json", "classifier.json", "base.json",
                "metrics.jsonl", "summary.json", "checkpoints/step-000006/model.safetensors",
                "checkpoints/step-000006/manifest.json")) {
            assertThat(run.resolve(f)).as(f).exists();
        }
        JsonNode summary = json(run.resolve("summary.json"));
        assertThat(summary.path("mode").asText()).isEqualTo("full");
        assertThat(summary.path("trainable_parameters").asLong()).isEqualTo(summary.path("total_parameters").asLong());
        assertThat(summary.path("confusion").path("labels").toString()).isEqualTo("[\"ham\",\"spam\"]");
        assertThat(summary.path("validation_examples").asInt()).isBetween(600, 700);
        assertThat(summary.has("peak_rss_bytes") && summary.path("f1").has("spam") && summary.path("precision").has("ham")
                && summary.path("recall").has("spam") && summary.has("accuracy")).as(summary.toString()).isTrue();
        List<String> rows = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertThat(rows).hasSize(6);
        assertThat(NodeProcess.JSON.readTree(rows.get(2)).has("accuracy")).isTrue();
        assertThat(NodeProcess.JSON.readTree(rows.get(0)).has("accuracy")).isFalse();
        assertThat(json(run.resolve("base.json")).path("run").asText())
                .isEqualTo(dist.root.resolve("runs/spam-pretrain").toString());
    }

    @Test
    @Order(2)
    void loraPredictAndMergeIntoAPlainGpt() throws Exception {
        Distribution.Result r = dist.run(args(List.of("finetune", "examples/spam/finetune-lora.yaml", "--out",
                "runs/spam-lora"), SHORT));
        assertThat(r.exit()).as(r.toString()).isZero();
        Path run = dist.root.resolve("runs/spam-lora");
        assertThat(run.resolve("adapter/adapter.safetensors")).exists();
        assertThat(json(run.resolve("adapter/adapter_config.json")).path("rank").asInt()).isEqualTo(4);
        JsonNode summary = json(run.resolve("summary.json"));
        assertThat(summary.path("trainable_parameters").asLong())
                .isLessThan(summary.path("total_parameters").asLong() / 5);

        Distribution.Result one = dist.run("predict", "--run", "runs/spam-lora", "--text", "<html>WIN $$$ NOW</html>");
        assertThat(one.exit()).as(one.toString()).isZero();
        JsonNode p = jsonLines(one.out()).getFirst();
        assertThat(p.path("label").asText()).isIn("ham", "spam");
        assertThat(p.path("probabilities").path("ham").asDouble() + p.path("probabilities").path("spam").asDouble())
                .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));

        Path input = tmp.resolve("mails.jsonl");
        Files.writeString(input, "{\"id\": \"m1\", \"text\": \"Meeting moved to 3pm\", \"label\": \"ham\"}\n"
                + "{\"id\": \"m2\", \"text\": \"<html><body>Cheap meds</body></html>\"}\n"
                + "{\"id\": \"m3\", \"text\": \"caf\\u00e9 \\ud83d\\ude00 \\u4e2d\\u6587\", \"label\": \"spam\"}\n",
                StandardCharsets.UTF_8);
        Distribution.Result file = dist.run("predict", "--run", "runs/spam-lora", "--input", input.toString());
        assertThat(file.exit()).as(file.toString()).isZero();
        List<JsonNode> lines = jsonLines(file.out());
        assertThat(lines).extracting(n -> n.path("id").asText()).containsExactly("m1", "m2", "m3");
        assertThat(file.err()).contains("on the 2 labelled texts");

        Distribution.Result merge = dist.run("lora", "merge", "--run", "runs/spam-lora");
        assertThat(merge.exit()).as(merge.toString()).isZero();
        Path merged = dist.root.resolve("runs/spam-lora-merged");
        assertThat(merged.resolve("merged.json")).exists();
        assertThat(json(merged.resolve("spec.json")).has("finetune")).as("a plain pre-training spec").isFalse();
        Distribution.Result gen = dist.run("generate", "--run", "runs/spam-lora-merged", "--prompt", "Dear ",
                "--tokens", "20");
        assertThat(gen.exit()).as(gen.toString()).isZero();
        assertThat(gen.out()).startsWith("Dear ");
        Distribution.Result again = dist.run("predict", "--run", "runs/spam-lora-merged", "--input", input.toString());
        assertThat(again.exit()).as(again.toString()).isZero();
        List<JsonNode> mergedLines = jsonLines(again.out());
        for (int i = 0; i < 3; i++) {
            assertThat(mergedLines.get(i).path("label").asText()).isEqualTo(lines.get(i).path("label").asText());
            assertThat(mergedLines.get(i).path("probabilities").path("spam").asDouble()).isCloseTo(
                    lines.get(i).path("probabilities").path("spam").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    @Order(3)
    void theScratchBaselineNeedsNoPreTraining() throws Exception {
        Distribution.Result r = dist.run(args(List.of("finetune", "examples/spam/scratch.yaml", "--out",
                "runs/spam-scratch"), TINY_MODEL, SHORT));
        assertThat(r.exit()).as(r.toString()).isZero();
        Path run = dist.root.resolve("runs/spam-scratch");
        assertThat(run.resolve("base.json")).doesNotExist();
        assertThat(json(run.resolve("summary.json")).path("mode").asText()).isEqualTo("full");
    }

    @Test
    @Order(4)
    void badInputIsRefusedNamingTheFileAndTheLine() throws Exception {
        Path noLabel = tmp.resolve("no-label.jsonl");
        Files.writeString(noLabel, "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\", \"label\": \"spam\"}\n"
                + "{\"text\": \"c\"}\n");
        Distribution.Result train = dist.run(args(List.of("finetune", "examples/spam/finetune-full.yaml", "--out",
                "runs/never", "--set", "data.path=" + noLabel), SHORT));
        assertThat(train.exit()).isEqualTo(1);
        assertThat(train.err()).contains("data.path: " + noLabel + " line 3: field \"label\" is missing");

        Path unknown = tmp.resolve("unknown-label.jsonl");
        Files.writeString(unknown, "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\", \"label\": \"phishing\"}\n");
        Distribution.Result predict = dist.run("predict", "--run", "runs/spam-full", "--input", unknown.toString());
        assertThat(predict.exit()).isEqualTo(1);
        assertThat(predict.err()).contains(unknown + " line 2: label 'phishing' is not one of the classes this model "
                + "predicts: ham, spam");

        Path empty = tmp.resolve("empty.jsonl");
        Files.writeString(empty, "\n\n");
        Distribution.Result none = dist.run("predict", "--run", "runs/spam-full", "--input", empty.toString());
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains(empty + ": no records");

        Distribution.Result key = dist.run(args(List.of("finetune", "examples/spam/finetune-lora.yaml", "--out",
                "runs/never2", "--set", "lora.rnk=4"), SHORT));
        assertThat(key.exit()).isEqualTo(1);
        assertThat(key.err()).contains("lora.rnk is not a known key");
        Distribution.Result notLora = dist.run("lora", "merge", "--run", "runs/spam-full");
        assertThat(notLora.exit()).isEqualTo(1);
        assertThat(notLora.err()).contains("only a LoRA run has an adapter to merge");
    }
}
