package dev.cornerstone.backend.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;
import dev.cornerstone.testkit.Tolerances;

/**
 * The whole stack on the opencl backend, as {@code cornerstone train --set backend.name=opencl}
 * runs it: the GPT bundle's model, AdamW, character-level Moby Dick, the trainer with evaluation
 * and checkpoints. Its loss sequence matches the cpu backend's from the same seed, and the run
 * leaves no tensor behind; after the first step the pool serves every allocation.
 */
class OpenClTrainingTest {

    static final int STEPS = 24;

    @TempDir
    Path tmp;

    static Map<String, Object> spec(int steps, String backend) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 2, "n_head", 2, "n_embd", 64,
                "block_size", 32, "dropout", 0.1)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 3e-3, "weight_decay", 0.1)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", GptThroughputBench.corpus().toString(),
                "tokenizer", "char", "val_fraction", 0.1)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 8, "steps", steps, "eval_every", 12,
                "eval_batches", 2, "log_every", 1, "checkpoint_every", 12, "grad_clip", 1.0, "seed", 1337)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", backend)));
        return s;
    }

    private Map<String, Object> train(ComputeBackend be, Path run) throws Exception {
        TrainingRun.Providers p = new TrainingRun.Providers(be, new GptProvider(), new AdamWProvider(),
                new TextDatasetProvider());
        try (TrainingRun r = TrainingRun.create(TrainSpec.from(spec(STEPS, be.name())), run, tmp, p, Map.of())) {
            return r.run(progress -> { });
        }
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            l.add(((Number) ((Map<?, ?>) Json.read(line, "metrics")).get("train_loss")).doubleValue());
        }
        return l;
    }

    @Test
    void gptTrainsOnOpenClWithTheCpuBackendsLossSequence() throws Exception {
        Map<String, Object> summary;
        long pooledAfterRun;
        long deviceAfterRun;
        try (OpenClBackend cl = OpenClTesting.backend()) {
            summary = train(cl, tmp.resolve("opencl"));
            assertThat(cl.liveTensors()).as("tensors leaked by a whole run").isZero();
            pooledAfterRun = cl.pooledBytes();
            deviceAfterRun = cl.deviceBytes();
        }
        try (CpuBackend cpu = new CpuBackend(2)) {
            train(cpu, tmp.resolve("cpu"));
        }
        assertThat(summary.get("backend")).isEqualTo("opencl");
        assertThat(deviceAfterRun).as("every buffer is back in the pool").isEqualTo(pooledAfterRun);
        List<Double> cl = losses(tmp.resolve("opencl"));
        List<Double> cpu = losses(tmp.resolve("cpu"));
        assertThat(cl).hasSize(STEPS);
        for (int s = 0; s < STEPS; s++) {
            assertThat(Tolerances.close(cl.get(s), cpu.get(s), Tolerances.F32_TRAINING_LOSS, 0))
                    .as("loss at step %d: opencl %s, cpu %s (all: %s vs %s)", s + 1, cl.get(s), cpu.get(s), cl, cpu)
                    .isTrue();
        }
        assertThat(cl.getLast()).as("the model learns").isLessThan(cl.getFirst() - 0.5);
        assertThat(tmp.resolve("opencl/checkpoints/step-000024/manifest.json")).exists();
    }
}
