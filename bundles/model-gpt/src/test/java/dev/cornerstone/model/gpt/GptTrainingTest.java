package dev.cornerstone.model.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.generate.Sampler;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on real text (Moby Dick, character level): the loss falls below a stated value,
 * the run folder holds what it should, and a run resumed from a checkpoint continues the
 * exact loss sequence of an uninterrupted run.
 */
class GptTrainingTest {

    @TempDir
    Path tmp;

    static Path corpus() {
        Path p = Path.of(System.getProperty("cornerstone.corpus.dir", "../../distribution/src/main/dist/data"), "moby-dick.txt");
        assertThat(p).as("the Moby Dick corpus committed with the distribution").isRegularFile();
        return p.toAbsolutePath();
    }

    static Map<String, Object> spec(Path corpus, int steps, int checkpointEvery) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 2, "n_head", 2, "n_embd", 64,
                "block_size", 32)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 3e-3, "weight_decay", 0.1)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", corpus.toString(), "tokenizer", "char",
                "val_fraction", 0.1)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 16, "steps", steps, "eval_every", steps,
                "eval_batches", 8, "log_every", 1, "checkpoint_every", checkpointEvery, "seed", 1337)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
        return s;
    }

    static TrainingRun.Providers providers(CpuBackend be) {
        return new TrainingRun.Providers(be, new GptProvider(), new AdamWProvider(), new TextDatasetProvider());
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            l.add(((Number) ((Map<?, ?>) Json.read(line, "metrics")).get("train_loss")).doubleValue());
        }
        return l;
    }

    @Test
    void lossFallsOnMobyDickAndTheRunFolderIsComplete() throws Exception {
        Path run = tmp.resolve("run");
        try (CpuBackend be = new CpuBackend(2)) {
            Map<String, Object> summary;
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), 300, 150)), run, tmp, providers(be),
                    Map.of())) {
                summary = r.run(p -> { });
                int[] sample = new Sampler(be, r.model()).sample(r.dataset().tokenizer().encode("The whale"), 40,
                        0.8, 10, 1);
                assertThat(r.dataset().tokenizer().decode(sample)).hasSize(40);
            }
            // 4.5 nats at initialisation (ln 89); a 2-layer model after 300 steps is far below
            assertThat(((Number) summary.get("final_val_loss")).doubleValue()).isLessThan(2.6);
            assertThat(be.liveTensors()).as("tensors leaked by a whole run").isZero();
        }
        assertThat(run.resolve("spec.json")).exists();
        assertThat(run.resolve("tokenizer.json")).exists();
        assertThat(run.resolve("summary.json")).exists();
        assertThat(Files.readAllLines(run.resolve("metrics.jsonl"))).hasSize(300);
        assertThat(Checkpoints.latest(run.resolve("checkpoints")).orElseThrow().getFileName().toString())
                .isEqualTo("step-000300");
        assertThat(run.resolve("checkpoints/step-000150/manifest.json")).exists();
    }

    @Test
    void resumingFromACheckpointContinuesTheExactLossSequence() throws Exception {
        Path full = tmp.resolve("full");
        Path cut = tmp.resolve("cut");
        try (CpuBackend be = new CpuBackend(2)) {
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), 30, 10)), full, tmp, providers(be),
                    Map.of())) {
                r.run(p -> { });
            }
            // The same run, "killed" after step 20: its checkpoint at 20 is the newest one left.
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(corpus(), 30, 10)), cut, tmp, providers(be),
                    Map.of())) {
                r.run(p -> { });
            }
            Checkpoints.load(cut.resolve("checkpoints/step-000030")); // complete before we cut it
            deleteTree(cut.resolve("checkpoints/step-000030"));
            List<String> lines = Files.readAllLines(cut.resolve("metrics.jsonl"));
            Files.write(cut.resolve("metrics.jsonl"), lines.subList(0, 25)); // it had logged up to step 25
            try (TrainingRun r = TrainingRun.resume(cut, tmp, providers(be), Map.of())) {
                assertThat(r.trainer().step()).isEqualTo(20);
                r.run(p -> { });
            }
        }
        assertThat(losses(cut)).hasSize(30).isEqualTo(losses(full));
    }

    static void deleteTree(Path p) throws Exception {
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
