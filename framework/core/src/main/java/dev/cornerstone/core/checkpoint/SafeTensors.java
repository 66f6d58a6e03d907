package dev.cornerstone.core.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.core.config.Json;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes
 * of JSON ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 * "__metadata__": {..}}}, padded with spaces to a multiple of 8), then the tensors' bytes,
 * little-endian, at their offsets relative to the end of the header. Reading checks every
 * rule and names the file in any error.
 */
public final class SafeTensors {

    /** Largest header accepted: a bad length must not make us allocate gigabytes. */
    static final long MAX_HEADER = 100L * 1024 * 1024;

    private SafeTensors() {
    }

    /** A tensor in host memory: F32 as floats, I32 as ints (exactly one of the arrays is set). */
    public record Entry(DType dtype, int[] shape, float[] floats, int[] ints) {
        public static Entry of(int[] shape, float[] data) {
            return new Entry(DType.F32, shape, data, null);
        }

        long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The content of a file: tensors in file order, and the metadata strings. */
    public record Content(SequencedMap<String, Entry> tensors, Map<String, String> metadata) {
    }

    public static void write(Path file, SequencedMap<String, Entry> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            long bytes = t.elements() * t.dtype().bytes();
            List<Integer> shape = new ArrayList<>();
            for (int d : t.shape()) {
                shape.add(d);
            }
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("dtype", dtypeName(t.dtype()));
            h.put("shape", shape);
            h.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), h);
            offset += bytes;
        }
        byte[] json = Json.write(header, false).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry t : tensors.values()) {
                int n = (int) t.elements();
                for (int i = 0; i < n; i++) {
                    if (buf.remaining() < 4) {
                        buf.flip();
                        writeFully(ch, buf);
                        buf.clear();
                    }
                    if (t.dtype() == DType.I32) {
                        buf.putInt(t.ints()[i]);
                    } else {
                        buf.putFloat(t.floats()[i]);
                    }
                }
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    static String dtypeName(DType d) {
        return switch (d) {
            case F32 -> "F32";
            case BF16 -> "BF16";
            case I32 -> "I32";
        };
    }

    public static Content read(Path file) throws IOException {
        String name = file.toString();
        long size = Files.size(file);
        if (size < 8) {
            throw new CheckpointException(name + ": truncated: " + size + " bytes, not even a header length");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, name);
            long n = len.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || n > size - 8) {
                throw new CheckpointException(name + ": bad header length " + n + " for a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, name);
            Object parsed;
            try {
                parsed = Json.read(new String(hb.array(), StandardCharsets.UTF_8), name);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(name + ": header is not valid JSON: " + e.getMessage());
            }
            if (!(parsed instanceof Map<?, ?> header)) {
                throw new CheckpointException(name + ": header is not a JSON object");
            }
            long dataSize = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Object[]> specs = new ArrayList<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (key.equals("__metadata__")) {
                    if (e.getValue() instanceof Map<?, ?> m) {
                        m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
                    }
                    continue;
                }
                specs.add(new Object[] {key, parseSpec(name, key, e.getValue(), dataSize)});
            }
            specs.sort((a, b) -> Long.compare(((Spec) a[1]).begin, ((Spec) b[1]).begin));
            long expected = 0;
            SequencedMap<String, Entry> tensors = new LinkedHashMap<>();
            for (Object[] s : specs) {
                Spec spec = (Spec) s[1];
                if (spec.begin != expected) {
                    throw new CheckpointException(name + ": tensor " + s[0] + " starts at " + spec.begin
                            + ", expected " + expected + " (gap or overlap in data_offsets)");
                }
                expected = spec.end;
                ByteBuffer data = ByteBuffer.allocate((int) (spec.end - spec.begin)).order(ByteOrder.LITTLE_ENDIAN);
                ch.position(8 + n + spec.begin);
                readFully(ch, data, name);
                data.flip();
                int count = (int) ((spec.end - spec.begin) / spec.dtype.bytes());
                if (spec.dtype == DType.I32) {
                    int[] v = new int[count];
                    data.asIntBuffer().get(v);
                    tensors.put((String) s[0], new Entry(DType.I32, spec.shape, null, v));
                } else if (spec.dtype == DType.F32) {
                    float[] v = new float[count];
                    data.asFloatBuffer().get(v);
                    tensors.put((String) s[0], new Entry(DType.F32, spec.shape, v, null));
                } else {
                    throw new CheckpointException(name + ": tensor " + s[0] + " has dtype " + spec.dtype
                            + ", which this reader does not load yet");
                }
            }
            if (expected != dataSize) {
                throw new CheckpointException(name + ": " + (dataSize - expected) + " bytes after the last tensor"
                        + " (file truncated or padded?)");
            }
            return new Content(tensors, metadata);
        }
    }

    private record Spec(DType dtype, int[] shape, long begin, long end) {
    }

    private static Spec parseSpec(String file, String key, Object v, long dataSize) throws CheckpointException {
        if (!(v instanceof Map<?, ?> m)) {
            throw new CheckpointException(file + ": entry " + key + " is not an object");
        }
        DType dtype = switch (String.valueOf(m.get("dtype"))) {
            case "F32" -> DType.F32;
            case "BF16" -> DType.BF16;
            case "I32" -> DType.I32;
            default -> throw new CheckpointException(file + ": tensor " + key + " has unsupported dtype "
                    + m.get("dtype"));
        };
        if (!(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offs)
                || offs.size() != 2) {
            throw new CheckpointException(file + ": tensor " + key + " lacks shape or data_offsets [begin, end]");
        }
        int[] shape = new int[shapeList.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new CheckpointException(file + ": tensor " + key + " has a bad shape " + shapeList);
            }
            shape[i] = d.intValue();
            elements *= d;
        }
        if (!(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end) || begin < 0 || end < begin
                || end > dataSize) {
            throw new CheckpointException(file + ": tensor " + key + " has data_offsets " + offs
                    + " outside the " + dataSize + " data bytes");
        }
        if (end - begin != elements * dtype.bytes()) {
            throw new CheckpointException(file + ": tensor " + key + " has " + (end - begin) + " bytes for shape "
                    + shapeList + " of " + dtype + " (needs " + elements * dtype.bytes() + ")");
        }
        return new Spec(dtype, shape, begin, end);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, String name) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new CheckpointException(name + ": truncated (unexpected end of file)");
            }
        }
    }
}
