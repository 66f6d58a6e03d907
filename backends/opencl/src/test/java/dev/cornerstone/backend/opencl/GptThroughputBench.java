package dev.cornerstone.backend.opencl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.model.gpt.GptProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;

/**
 * GPT config A (n_layer 4, n_head 4, n_embd 128, block_size 64, batch 32; AdamW lr 1e-3, betas
 * 0.9/0.95, weight decay 0.1, constant lr, no clipping, no dropout; character-level Moby Dick)
 * trained on the opencl backend and on the cpu backend in the same JVM, one after the other;
 * prints the median tokens/s of each and their ratio. A benchmark, not a test: surefire does not
 * pick it up. Run it with
 * <pre>
 * mvn -B -q verify -pl backends/opencl -am -Dtest=GptThroughputBench -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dbench.steps=60
 * </pre>
 */
public class GptThroughputBench {

    static Path corpus() {
        Path p = Path.of(System.getProperty("cornerstone.corpus.dir", "../../distribution/src/main/dist/data"),
                "moby-dick.txt").toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("the Moby Dick corpus committed with the distribution is missing: " + p);
        }
        return p;
    }

    /** Config A as the training-core issue and itests/bench/run-bench.sh define it. */
    static Map<String, Object> configA(Path corpus, int steps, String backend) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 4, "n_head", 4, "n_embd", 128,
                "block_size", 64, "dropout", 0.0)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 1e-3, "betas", java.util.List.of(0.9, 0.95),
                "weight_decay", 0.1)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", corpus.toString(), "tokenizer", "char",
                "val_fraction", 0.1)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 32, "steps", steps, "eval_every", steps,
                "eval_batches", 2, "log_every", 1, "checkpoint_every", 0, "grad_clip", 0, "lr_schedule", "constant",
                "seed", 1337)));
        s.put("backend", new LinkedHashMap<>(Map.of("name", backend)));
        return s;
    }

    static Map<String, Object> train(ComputeBackend be, int steps, Path tmp) throws Exception {
        TrainingRun.Providers p = new TrainingRun.Providers(be, new GptProvider(), new AdamWProvider(),
                new TextDatasetProvider());
        try (TrainingRun r = TrainingRun.create(TrainSpec.from(configA(corpus(), steps, be.name())),
                tmp.resolve(be.name()), tmp, p, Map.of())) {
            return r.run(progress -> { });
        }
    }

    @Test
    void run() throws Exception {
        int steps = Integer.getInteger("bench.steps", 60);
        Path tmp = Files.createTempDirectory("gpt-bench");
        Map<String, Object> cl;
        Map<String, Object> cpu;
        try (OpenClBackend opencl = OpenClTesting.backend()) {
            cl = train(opencl, steps, tmp);
            System.out.print(opencl.profile());                       // with -Dcornerstone.opencl.profile=true
        }
        try (CpuBackend c = new CpuBackend(Runtime.getRuntime().availableProcessors())) {
            cpu = train(c, steps, tmp);
        }
        double clRate = ((Number) cl.get("median_tokens_per_sec")).doubleValue();
        double cpuRate = ((Number) cpu.get("median_tokens_per_sec")).doubleValue();
        System.out.printf("GPT config A, %d steps, median tokens/s: opencl %.0f (%s), cpu %.0f (%s); opencl/cpu %.2fx;"
                        + " final train loss opencl %.4f, cpu %.4f%n", steps, clRate, cl.get("device"), cpuRate,
                cpu.get("device"), clRate / cpuRate, cl.get("final_train_loss"), cpu.get("final_train_loss"));
    }
}
