package dev.cornerstone.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {

    @TempDir
    Path dir;
    CpuBackend be;
    SequencedMap<String, Tensor> model = new LinkedHashMap<>();
    SequencedMap<String, Tensor> optim = new LinkedHashMap<>();

    @BeforeEach
    void setUp() {
        be = new CpuBackend(1);
        model.put("wte.weight", tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2));
        model.put("ln_f.weight", tensor(new float[] {0.5f, -0.5f}, 2));
        optim.put("wte.weight.exp_avg", tensor(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, 3, 2));
    }

    @AfterEach
    void tearDown() {
        model.values().forEach(Tensor::close);
        optim.values().forEach(Tensor::close);
        assertThat(be.liveTensors()).isZero();
        be.close();
    }

    Tensor tensor(float[] v, int... dims) {
        Tensor t = be.allocate(Shape.of(dims), DType.F32);
        be.write(t, 0, v, 0, v.length);
        return t;
    }

    Path save(int step) throws IOException {
        return Checkpoints.save(dir, step, model, optim, Map.of("step", step, "data_position", 40L));
    }

    @Test
    void saveThenLoadRestoresEveryTensorByName() throws IOException {
        Path cp = save(20);
        assertThat(cp.getFileName().toString()).isEqualTo("step-000020");
        assertThat(Files.list(dir).filter(p -> p.getFileName().toString().startsWith(".")).toList())
                .as("no temporary folder left").isEmpty();
        Checkpoints.Loaded l = Checkpoints.load(cp);
        assertThat(l.step()).isEqualTo(20);
        assertThat(l.trainer()).containsEntry("data_position", 40L);
        be.fill(model.get("wte.weight"), 0);
        Checkpoints.toDevice(l.model().tensors(), model, "model.safetensors");
        float[] back = new float[6];
        be.read(model.get("wte.weight"), 0, back, 0, 6);
        assertThat(back).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(l.optimizer().tensors()).containsKey("wte.weight.exp_avg");
        assertThat(Checkpoints.latest(dir)).contains(cp);
    }

    @Test
    void aFlippedByteIsDetectedAndTheFileNamed() throws IOException {
        Path cp = save(5);
        Path f = cp.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        b[b.length - 2] ^= 0x01;
        Files.write(f, b);
        assertThatThrownBy(() -> Checkpoints.load(cp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("SHA-256");
    }

    @Test
    void aTruncatedOrMissingFileIsDetected() throws IOException {
        Path cp = save(5);
        Path f = cp.resolve("optimizer.safetensors");
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 10));
        assertThatThrownBy(() -> Checkpoints.load(cp)).hasMessageContaining(f.toString());
        Path other = save(6);
        Files.delete(other.resolve("trainer.json"));
        assertThatThrownBy(() -> Checkpoints.load(other)).hasMessageContaining("trainer.json");
        Files.delete(other.resolve("manifest.json"));
        assertThatThrownBy(() -> Checkpoints.load(other)).hasMessageContaining("manifest.json");
    }

    @Test
    void aShapeMismatchNamesTheTensor() throws IOException {
        Checkpoints.Loaded l = Checkpoints.load(save(1));
        SequencedMap<String, Tensor> other = new LinkedHashMap<>();
        other.put("wte.weight", tensor(new float[8], 4, 2));
        other.put("ln_f.weight", tensor(new float[2], 2));
        try {
            assertThatThrownBy(() -> Checkpoints.toDevice(l.model().tensors(), other, "model.safetensors"))
                    .hasMessageContaining("wte.weight").hasMessageContaining("(4, 2)");
        } finally {
            other.values().forEach(Tensor::close);
        }
    }
}
