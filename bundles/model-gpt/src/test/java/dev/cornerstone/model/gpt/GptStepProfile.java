package dev.cornerstone.model.gpt;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;

/**
 * Where a training step of GPT config A (or B) spends its time, kernel by kernel: a developer's
 * tool, not a test. Wraps the CPU backend in a proxy that times every call, trains a few steps
 * and prints the total per backend method against the wall time of the steps.
 *
 * <pre>java -cp ... dev.cornerstone.model.gpt.GptStepProfile [A|B] [STEPS] [THREADS]</pre>
 */
public final class GptStepProfile {

    public static void main(String[] args) throws Exception {
        String config = args.length > 0 ? args[0] : "A";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        boolean b = config.equals("B");
        Map<String, long[]> times = new TreeMap<>();
        boolean[] timing = {false};
        try (CpuBackend cpu = new CpuBackend(threads)) {
            ComputeBackend timed = (ComputeBackend) Proxy.newProxyInstance(ComputeBackend.class.getClassLoader(),
                    new Class<?>[] {ComputeBackend.class}, (proxy, m, a) -> {
                        long t0 = System.nanoTime();
                        try {
                            return m.invoke(cpu, a);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            if (timing[0]) {
                                long[] t = times.computeIfAbsent(m.getName(), k -> new long[2]);
                                t[0] += System.nanoTime() - t0;
                                t[1]++;
                            }
                        }
                    });
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", b ? 6 : 4, "n_head", b ? 6 : 4,
                    "n_embd", b ? 384 : 128, "block_size", b ? 256 : 64)));
            s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 1e-3, "weight_decay", 0.1)));
            s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", GptTrainingTest.corpus().toString(),
                    "tokenizer", "char", "val_fraction", 0.1)));
            s.put("train", new LinkedHashMap<>(Map.of("batch_size", b ? 16 : 32, "steps", steps + 5,
                    "eval_every", 0, "log_every", 1, "checkpoint_every", 0, "seed", 1337)));
            s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
            Path tmp = Files.createTempDirectory("profile");
            try (TrainingRun r = TrainingRun.create(TrainSpec.from(s), tmp.resolve("run"), tmp,
                    new TrainingRun.Providers(System.getProperty("profile.proxy") != null ? timed : cpu, new GptProvider(), new AdamWProvider(),
                            new TextDatasetProvider()), Map.of())) {
                for (int i = 0; i < 5; i++) {
                    r.trainer().trainStep();
                }
                timing[0] = true;
                var mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long cpu0 = mx.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    r.trainer().trainStep();
                }
                long wall = System.nanoTime() - t0;
                double cpuMs = (mx.getCurrentThreadCpuTime() - cpu0) / 1e6 / steps;
                timing[0] = false;
                long sum = times.values().stream().mapToLong(t -> t[0]).sum();
                long tokens = (long) steps * (b ? 16 * 256 : 32 * 64);
                System.out.printf("config %s, %d steps, %d threads: %.1f ms/step, %.0f tokens/s; main thread CPU %.1f ms/step"
                        + " (with 1 thread: the work of a step, whatever else the machine runs)%n", config, steps,
                        threads, wall / 1e6 / steps, tokens / (wall / 1e9), cpuMs);
                times.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
                        .forEach(e -> System.out.printf("  %-22s %8.2f ms/step %5.1f%%  %6d calls/step%n", e.getKey(),
                                e.getValue()[0] / 1e6 / steps, 100.0 * e.getValue()[0] / wall,
                                e.getValue()[1] / steps));
                System.out.printf("  %-22s %8.2f ms/step %5.1f%%%n", "(outside kernels)", (wall - sum) / 1e6 / steps,
                        100.0 * (wall - sum) / wall);
            }
        }
    }
}
