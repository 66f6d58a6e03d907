package dev.cornerstone.model.gpt;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.data.TokenBatcher;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;
import dev.cornerstone.data.text.TextDataset;
import dev.cornerstone.data.text.TextDatasetProvider;
import dev.cornerstone.optim.adamw.AdamWProvider;

/**
 * Step-by-step comparison with PyTorch: a developer's tool, not a test. Trains GPT config A as
 * the bench does and writes to OUT/dump.safetensors the initial weights, every batch it drew and
 * the training loss of every step, for {@code itests/bench/compare_steps_torch.py} to replay.
 *
 * <pre>java -cp ... dev.cornerstone.model.gpt.GptStepDump OUT [STEPS] [THREADS]</pre>
 */
public final class GptStepDump {

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Files.createDirectories(out);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", new LinkedHashMap<>(Map.of("name", "gpt", "n_layer", 4, "n_head", 4, "n_embd", 128,
                "block_size", 64)));
        s.put("optimizer", new LinkedHashMap<>(Map.of("name", "adamw", "lr", 1e-3, "weight_decay", 0.1)));
        s.put("data", new LinkedHashMap<>(Map.of("name", "text", "path", GptTrainingTest.corpus().toString(),
                "tokenizer", "char", "val_fraction", 0.1)));
        s.put("train", new LinkedHashMap<>(Map.of("batch_size", 32, "steps", steps, "eval_every", 0, "log_every", 1,
                "checkpoint_every", 0, "seed", 1337, "grad_clip", 0, "lr_schedule", "constant")));
        s.put("backend", new LinkedHashMap<>(Map.of("name", "cpu")));
        Path tmp = Files.createTempDirectory("stepdump");
        try (CpuBackend cpu = new CpuBackend(threads);
             TrainingRun r = TrainingRun.create(TrainSpec.from(s), tmp.resolve("run"), tmp,
                     new TrainingRun.Providers(cpu, new GptProvider(), new AdamWProvider(), new TextDatasetProvider()),
                     Map.of())) {
            var tensors = new LinkedHashMap<String, SafeTensors.Entry>();
            for (var e : r.model().parameters().entrySet()) {
                Tensor t = e.getValue();
                float[] f = new float[(int) t.size()];
                cpu.read(t, 0, f, 0, f.length);
                tensors.put("init." + e.getKey(), SafeTensors.Entry.of(t.shape().dims(), f));
            }
            TokenBatcher data = r.trainer().data();
            int rows = 32 * 64;                                        // B × T tokens per batch
            int[] xs = new int[steps * rows];                          // (steps, B, T)
            int[] ys = new int[steps * rows];
            for (int k = 0; k < steps; k++) {                          // batch k is step k+1's
                TokenBatcher.Batch b = data.batch(k);
                System.arraycopy(b.inputs(), 0, xs, k * rows, rows);
                System.arraycopy(b.targets(), 0, ys, k * rows, rows);
            }
            tensors.put("batch.x", new SafeTensors.Entry(DType.I32, new int[] {steps, 32, 64}, null, xs));
            tensors.put("batch.y", new SafeTensors.Entry(DType.I32, new int[] {steps, 32, 64}, null, ys));
            float[] losses = new float[steps];
            for (int i = 0; i < steps; i++) {
                losses[i] = r.trainer().trainStep().trainLoss();
                if (i % 10 == 0) {
                    System.out.println("step " + (i + 1) + " loss " + losses[i]);
                }
            }
            tensors.put("loss", SafeTensors.Entry.of(new int[] {steps}, losses));
            for (var e : r.model().parameters().entrySet()) {
                Tensor t = e.getValue();
                float[] f = new float[(int) t.size()];
                cpu.read(t, 0, f, 0, f.length);
                tensors.put("final." + e.getKey(), SafeTensors.Entry.of(t.shape().dims(), f));
            }
            int[] train = ((TextDataset) r.dataset()).train();
            int[] val = ((TextDataset) r.dataset()).validation();
            tensors.put("data.train", new SafeTensors.Entry(DType.I32, new int[] {train.length}, null, train));
            tensors.put("data.val", new SafeTensors.Entry(DType.I32, new int[] {val.length}, null, val));
            SafeTensors.write(out.resolve("dump.safetensors"), tensors, Map.of("steps", String.valueOf(steps)));
        }
    }
}
