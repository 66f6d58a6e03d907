package dev.cornerstone.model.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.autograd.GradStore;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.testkit.Tolerances;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPT against PyTorch: {@code golden/make_gpt_golden.py} wrote a small GPT's weights, a
 * batch, PyTorch's logits, loss and every parameter gradient; the Java model loads the same
 * weights and must match within {@link #GOLDEN_F32}. CI needs no PyTorch: the file is committed.
 */
class GptGoldenTest {

    /** fp32 against PyTorch's fp32 (different summation orders): relative, with a floor for tiny gradients. */
    static final double GOLDEN_F32 = Tolerances.F32_ACCUMULATED;
    static final double GOLDEN_F32_ABS = 1e-6;
    static final String FORMAT_VERSION = "1";

    @TempDir
    Path tmp;

    @Test
    void lossLogitsAndEveryGradientMatchPyTorch() throws Exception {
        Path file = tmp.resolve("gpt_golden.safetensors");
        try (InputStream in = getClass().getResourceAsStream("/golden/gpt_golden.safetensors")) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        SafeTensors.Content golden = SafeTensors.read(file);
        assertThat(golden.metadata()).containsEntry("format", "cornerstone-golden")
                .containsEntry("version", FORMAT_VERSION);
        Map<?, ?> cfgMap = (Map<?, ?>) Json.read(golden.metadata().get("config"), "golden config");
        GptConfig cfg = new GptConfig(((Number) cfgMap.get("n_layer")).intValue(),
                ((Number) cfgMap.get("n_head")).intValue(), ((Number) cfgMap.get("n_embd")).intValue(),
                ((Number) cfgMap.get("block_size")).intValue(), ((Number) cfgMap.get("vocab_size")).intValue(), 0f,
                (Boolean) cfgMap.get("bias"));
        SafeTensors.Entry ids = golden.tensors().get("input.ids");
        SafeTensors.Entry targets = golden.tensors().get("input.targets");
        int b = ids.shape()[0], t = ids.shape()[1];

        try (CpuBackend be = new CpuBackend(2); Gpt gpt = new Gpt(be, cfg, 0); GradStore grads = new GradStore(be)) {
            for (var e : gpt.parameters().entrySet()) {
                float[] w = golden.tensors().get(e.getKey()).floats();
                assertThat(w).as(e.getKey()).hasSize((int) e.getValue().size());
                be.write(e.getValue(), 0, w, 0, w.length);
            }
            List<String> failures = new ArrayList<>();
            try (Tape tape = new Tape(be); Tensor x = be.allocate(Shape.of(b, t), DType.I32);
                 Tensor y = be.allocate(Shape.of(b, t), DType.I32)) {
                be.writeInts(x, 0, ids.ints(), 0, b * t);
                be.writeInts(y, 0, targets.ints(), 0, b * t);
                Graph g = new Graph(be, tape, grads, true, 0);
                Var logits = gpt.forward(g, x);
                compare("logits", read(be, logits.value()), golden.tensors().get("output.logits").floats(), failures);
                Var loss = g.crossEntropy(logits, y);
                tape.backward(loss, 1f);
                compare("loss", new float[] {Graph.scalar(loss)}, golden.tensors().get("output.loss").floats(),
                        failures);
            }
            for (String name : gpt.parameters().keySet()) {
                compare("grad." + name, read(be, grads.grads().get(name)),
                        golden.tensors().get("grad." + name).floats(), failures);
            }
            assertThat(failures).isEmpty();
        }
    }

    static void compare(String what, float[] actual, float[] expected, List<String> failures) {
        assertThat(actual).as(what).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            if (!Tolerances.close(actual[i], expected[i], GOLDEN_F32, GOLDEN_F32_ABS)) {
                failures.add(what + "[" + i + "]: " + actual[i] + ", PyTorch " + expected[i]);
                return;
            }
        }
    }

    static float[] read(CpuBackend be, Tensor t) {
        float[] f = new float[(int) t.size()];
        be.read(t, 0, f, 0, f.length);
        return f;
    }
}
