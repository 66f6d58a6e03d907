package dev.cornerstone.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;

    static SequencedMap<String, SafeTensors.Entry> sample() {
        SequencedMap<String, SafeTensors.Entry> t = new LinkedHashMap<>();
        t.put("wte.weight", SafeTensors.Entry.of(new int[] {3, 2}, new float[] {1, -2, 3.5f, 0, 1e-30f, -7}));
        t.put("ln_f.bias", SafeTensors.Entry.of(new int[] {2}, new float[] {0.25f, Float.MIN_VALUE}));
        t.put("ids", new SafeTensors.Entry(DType.I32, new int[] {3}, null, new int[] {-1, 0, 65535}));
        return t;
    }

    @Test
    void roundTripKeepsNamesShapesValuesAndMetadata() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "cornerstone"));
        SafeTensors.Content c = SafeTensors.read(f);
        assertThat(c.metadata()).containsEntry("format", "cornerstone");
        assertThat(c.tensors().keySet()).containsExactly("wte.weight", "ln_f.bias", "ids");
        assertThat(c.tensors().get("wte.weight").shape()).containsExactly(3, 2);
        assertThat(c.tensors().get("wte.weight").floats()).containsExactly(1, -2, 3.5f, 0, 1e-30f, -7);
        assertThat(c.tensors().get("ln_f.bias").floats()).containsExactly(0.25f, Float.MIN_VALUE);
        assertThat(c.tensors().get("ids").ints()).containsExactly(-1, 0, 65535);
    }

    @Test
    void fileFollowsThePublishedLayout() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim();
        assertThat(header).startsWith("{").contains("\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],"
                + "\"data_offsets\":[0,24]}");
        assertThat(bytes.length).isEqualTo(8 + n + 24 + 8 + 12);
        // little-endian float 1.0 first
        assertThat(ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat()).isEqualTo(1f);
    }

    @Test
    void truncatedFileIsDetectedWithTheFileName() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 3));
        assertThatThrownBy(() -> SafeTensors.read(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(f.toString());
        Files.write(f, new byte[5]);
        assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("truncated");
    }

    @Test
    void badHeaderLengthAndBadJsonAreDetected() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] b = Files.readAllBytes(f);
        byte[] huge = b.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        Files.write(f, huge);
        assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("bad header length");
        byte[] garbled = b.clone();
        garbled[9] = '!';
        Files.write(f, garbled);
        assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("not valid JSON")
                .hasMessageContaining(f.toString());
    }

    @Test
    void offsetsThatDoNotMatchTheShapeAreDetected() throws IOException {
        Path f = dir.resolve("m.safetensors");
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).putFloat(1).putFloat(2);
        Files.write(f, buf.array());
        assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("tensor a has 8 bytes for shape [3]");
    }
}
