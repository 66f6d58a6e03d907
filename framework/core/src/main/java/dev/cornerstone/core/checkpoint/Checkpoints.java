package dev.cornerstone.core.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.stream.Stream;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.config.Json;

/**
 * A run's checkpoints: {@code <dir>/step-000500/} with {@code model.safetensors} (parameters
 * by name), {@code optimizer.safetensors} (optimizer state by {@code <param>.<slot>}),
 * {@code trainer.json} (step, data position, seed, spec, bundle versions) and
 * {@code manifest.json} (format version and a SHA-256 per file).
 *
 * <p>Written under a hidden temporary name, each file fsynced, the folder fsynced, then
 * renamed into place: a crash leaves either the whole checkpoint or none. Loading checks the
 * manifest first and names the file on any mismatch. Tensors are stored whole, by name, so
 * a checkpoint does not depend on how many ranks or which backend wrote it.
 */
public final class Checkpoints {

    public static final int FORMAT_VERSION = 1;
    static final String MODEL = "model.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String TRAINER = "trainer.json";
    static final String MANIFEST = "manifest.json";

    private Checkpoints() {
    }

    public static String dirName(int step) {
        return String.format("step-%06d", step);
    }

    /** Reads tensors from the backend into host entries. */
    public static SequencedMap<String, SafeTensors.Entry> toHost(SequencedMap<String, Tensor> tensors) {
        SequencedMap<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ComputeBackend be = t.backend();
            if (t.dtype() == DType.I32) {
                int[] v = new int[(int) t.size()];
                be.readInts(t, 0, v, 0, v.length);
                out.put(e.getKey(), new SafeTensors.Entry(DType.I32, t.shape().dims(), null, v));
            } else {
                float[] v = new float[(int) t.size()];
                be.read(t, 0, v, 0, v.length);
                out.put(e.getKey(), SafeTensors.Entry.of(t.shape().dims(), v));
            }
        }
        return out;
    }

    /** Writes host entries into the backend tensors of the same names; every name and shape must match. */
    public static void toDevice(SequencedMap<String, SafeTensors.Entry> from, SequencedMap<String, Tensor> into,
                                String file) throws CheckpointException {
        for (String name : into.keySet()) {
            if (!from.containsKey(name)) {
                throw new CheckpointException(file + ": no tensor named " + name);
            }
        }
        for (Map.Entry<String, SafeTensors.Entry> e : from.entrySet()) {
            Tensor t = into.get(e.getKey());
            if (t == null) {
                throw new CheckpointException(file + ": tensor " + e.getKey() + " is not part of this model/optimizer");
            }
            if (!java.util.Arrays.equals(t.shape().dims(), e.getValue().shape())) {
                throw new CheckpointException(file + ": tensor " + e.getKey() + " has shape "
                        + java.util.Arrays.toString(e.getValue().shape()) + ", the model expects " + t.shape());
            }
            if (t.dtype() == DType.I32) {
                t.backend().writeInts(t, 0, e.getValue().ints(), 0, e.getValue().ints().length);
            } else {
                t.backend().write(t, 0, e.getValue().floats(), 0, e.getValue().floats().length);
            }
        }
    }

    /**
     * Saves a checkpoint atomically into {@code runDir/checkpoints/step-NNNNNN/}; returns its folder.
     */
    public static Path save(Path checkpointsDir, int step, SequencedMap<String, Tensor> model,
                            SequencedMap<String, Tensor> optimizer, Map<String, Object> trainer) throws IOException {
        return saveHost(checkpointsDir, step, model, toHost(optimizer), trainer);
    }

    /**
     * As {@link #save}, with the optimizer state already in host memory (gathered from the
     * ranks of ZeRO-1 training, which hold it nowhere whole on a backend).
     */
    public static Path saveHost(Path checkpointsDir, int step, SequencedMap<String, Tensor> model,
                                SequencedMap<String, SafeTensors.Entry> optimizer, Map<String, Object> trainer)
            throws IOException {
        Files.createDirectories(checkpointsDir);
        Path target = checkpointsDir.resolve(dirName(step));
        Path tmp = checkpointsDir.resolve("." + dirName(step) + ".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        Map<String, String> meta = Map.of("format", "cornerstone", "step", String.valueOf(step));
        SafeTensors.write(tmp.resolve(MODEL), toHost(model), meta);
        SafeTensors.write(tmp.resolve(OPTIMIZER), optimizer, meta);
        writeSynced(tmp.resolve(TRAINER), Json.write(trainer, true));
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format_version", FORMAT_VERSION);
        manifest.put("step", step);
        Map<String, Object> files = new LinkedHashMap<>();
        for (String f : List.of(MODEL, OPTIMIZER, TRAINER)) {
            files.put(f, Map.of("sha256", sha256(tmp.resolve(f)), "bytes", Files.size(tmp.resolve(f))));
        }
        manifest.put("files", files);
        writeSynced(tmp.resolve(MANIFEST), Json.write(manifest, true));
        fsyncDir(tmp);
        if (Files.exists(target)) {
            deleteTree(target); // the same step saved again (a resumed run): replace it
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        fsyncDir(checkpointsDir);
        return target;
    }

    /** A verified checkpoint, read into host memory. */
    public record Loaded(Path dir, SafeTensors.Content model, SafeTensors.Content optimizer,
                         Map<String, Object> trainer) {
        public int step() {
            return ((Number) trainer.get("step")).intValue();
        }
    }

    /** Verifies every file against the manifest, then reads them. */
    @SuppressWarnings("unchecked")
    public static Loaded load(Path dir) throws IOException {
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new CheckpointException(manifestFile + ": missing; " + dir + " is not a complete checkpoint");
        }
        Object m;
        try {
            m = Json.read(Files.readString(manifestFile), manifestFile.toString());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage());
        }
        if (!(m instanceof Map<?, ?> manifest) || !(manifest.get("files") instanceof Map<?, ?> files)) {
            throw new CheckpointException(manifestFile + ": not a checkpoint manifest");
        }
        Object version = manifest.get("format_version");
        if (!(version instanceof Long v) || v != FORMAT_VERSION) {
            throw new CheckpointException(manifestFile + ": format_version " + version + ", this Cornerstone reads "
                    + FORMAT_VERSION);
        }
        for (String f : List.of(MODEL, OPTIMIZER, TRAINER)) {
            Path p = dir.resolve(f);
            if (!(files.get(f) instanceof Map<?, ?> entry)) {
                throw new CheckpointException(manifestFile + ": no entry for " + f);
            }
            if (!Files.isRegularFile(p)) {
                throw new CheckpointException(p + ": missing");
            }
            String actual = sha256(p);
            if (!actual.equals(entry.get("sha256"))) {
                throw new CheckpointException(p + ": SHA-256 " + actual + " does not match the manifest's "
                        + entry.get("sha256") + " (file corrupt or changed)");
            }
        }
        Object trainer;
        try {
            trainer = Json.read(Files.readString(dir.resolve(TRAINER), StandardCharsets.UTF_8),
                    dir.resolve(TRAINER).toString());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage());
        }
        return new Loaded(dir, SafeTensors.read(dir.resolve(MODEL)), SafeTensors.read(dir.resolve(OPTIMIZER)),
                (Map<String, Object>) trainer);
    }

    /** The newest complete checkpoint folder under {@code checkpointsDir}, if any. */
    public static Optional<Path> latest(Path checkpointsDir) throws IOException {
        if (!Files.isDirectory(checkpointsDir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(checkpointsDir)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d{6,}"))
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeSynced(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(p)) {
            s.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(all.get(i));
        }
    }
}
