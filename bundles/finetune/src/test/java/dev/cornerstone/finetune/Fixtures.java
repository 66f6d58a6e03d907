package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.ClassificationExample;
import dev.cornerstone.data.text.ClassificationJsonl;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.lora.LoraProvider;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;

/** What the fine-tuning tests share: real providers, the real corpora, a small pre-trained GPT. */
final class Fixtures {

    private Fixtures() {
    }

    static Providers providers(CpuBackend be) {
        return new Providers(Map.of("cpu", be), Map.of("gpt", new GptProvider()), Map.of("adamw", new AdamWProvider()),
                Map.of("text", new TextDatasetProvider()), Map.of("lora", new LoraProvider()));
    }

    static Path corpus(String name) {
        Path p = Path.of(System.getProperty("cornerstone.corpus.dir", "../../distribution/src/main/dist/data"), name);
        assertThat(p).as("the corpus committed with the distribution").isRegularFile();
        return p.toAbsolutePath().normalize();
    }

    /** The first {@code spam} spam and {@code ham} ham mails of the SpamAssassin set, as JSONL. */
    static Path spamSubset(Path file, int spam, int ham) throws IOException {
        List<String> lines = new ArrayList<>();
        int s = 0, h = 0;
        for (ClassificationExample e : ClassificationJsonl.read(corpus("spamassassin-train.jsonl.gz"))) {
            boolean isSpam = e.label().equals("spam");
            if (isSpam ? s++ < spam : h++ < ham) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", e.id());
                m.put("text", e.text());
                m.put("label", e.label());
                lines.add(Json.write(m, false));
            }
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    /**
     * A tiny GPT pre-trained for a few steps on the first 100 kB of Moby Dick and the texts of
     * {@code mails} (byte or char level): enough to fine-tune, quick to make.
     */
    static Path pretrain(CpuBackend be, Path dir, Path mails, String tokenizer, int steps) throws IOException {
        Files.createDirectories(dir);
        Path corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, Files.readString(corpus("moby-dick.txt")).substring(0, 100_000));
        Map<String, Object> data = new LinkedHashMap<>(Map.of("name", "text", "path", corpus.toString(), "tokenizer",
                tokenizer, "val_fraction", 0.05));
        if (mails != null) {
            data.put("jsonl_path", mails.toString());
            data.put("jsonl_holdout", 0.25);
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 1, "n_head", 2, "n_embd", 32,
                "block_size", 64)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 3e-3)));
        s.put("data", data);
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 16, "steps", steps, "eval_every", 0,
                "log_every", 10, "checkpoint_every", 0, "seed", 7)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
        Path run = dir.resolve("pretrain");
        try (TrainingRun r = TrainingRun.create(TrainSpec.from(s), run, dir,
                new TrainingRun.Providers(be, new GptProvider(), new AdamWProvider(), new TextDatasetProvider()),
                Map.of())) {
            r.run(p -> { });
        }
        return run;
    }

    /** A fine-tuning spec on {@code data}, small and quick; {@code from} null for a scratch model. */
    static Map<String, Object> spec(Path from, Path data, String mode, int steps) {
        Map<String, Object> s = new LinkedHashMap<>();
        Map<String, Object> ft = new LinkedHashMap<>(Map.of("mode", mode, "pooling", "last"));
        if (from != null) {
            ft.put("from", from.toString());
        } else {
            s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 1, "n_head", 2, "n_embd", 32,
                    "block_size", 64)));
        }
        s.put("finetune", ft);
        s.put("data", new LinkedHashMap<>(Map.of("path", data.toString(), "val_fraction", 0.25)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 2e-3, "weight_decay", 0.0)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 16, "steps", steps, "eval_every", 0, "log_every", 5,
                "seed", 3)));
        return s;
    }
}
