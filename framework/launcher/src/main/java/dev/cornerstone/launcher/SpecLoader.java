package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Reads a job spec (YAML or JSON; JSON is YAML) into plain maps, applies {@code --set
 * section.key=value} overrides (the value read as a YAML scalar or list, so {@code 1e-3},
 * {@code true} and {@code [0.9, 0.95]} keep their types) and makes relative data paths
 * absolute against the working directory.
 */
final class SpecLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private SpecLoader() {
    }

    static Map<String, Object> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CliException(file + ": no such spec file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /**
     * A run folder given on the command line; {@code latest} is the newest run under the
     * distribution's {@code runs/}.
     */
    static Path runFolder(Home home, Path given) throws IOException {
        if (given.toString().equals("latest")) {
            Path runs = home.root().resolve("runs");
            try (var s = Files.list(runs)) {
                return s.filter(p -> Files.isRegularFile(p.resolve("spec.json")))
                        .max(java.util.Comparator.comparing(p -> {
                            try {
                                return Files.getLastModifiedTime(p.resolve("spec.json"));
                            } catch (IOException e) {
                                return java.nio.file.attribute.FileTime.fromMillis(0);
                            }
                        }))
                        .orElseThrow(() -> new CliException("no run in " + runs + " yet: train one first"));
            } catch (java.nio.file.NoSuchFileException e) {
                throw new CliException("no run in " + runs + " yet: train one first");
            }
        }
        Path p = given.toAbsolutePath().normalize();
        if (!Files.isRegularFile(p.resolve("spec.json"))) {
            throw new CliException(p + " is not a run folder (no spec.json)");
        }
        return p;
    }

    /** A run's stored spec.json. */
    static Map<String, Object> jsonToMap(Path file) throws IOException {
        return read(file);
    }

    /** The default spec shipped in the launcher: GPT config A on the distribution's Moby Dick. */
    static Map<String, Object> defaults(Home home) throws IOException {
        try (InputStream in = SpecLoader.class.getResourceAsStream("/default-train.yaml")) {
            Map<String, Object> spec = parse(in, "default-train.yaml");
            section(spec, "data").put("path", home.root().resolve("data/moby-dick.txt").toString());
            return spec;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(InputStream in, String source) throws IOException {
        Object v;
        try {
            v = YAML.readValue(in, Object.class);
        } catch (JsonProcessingException e) {
            throw new CliException(source + ": not valid YAML/JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        }
        if (v == null) {
            return new LinkedHashMap<>();
        }
        if (!(v instanceof Map)) {
            throw new CliException(source + ": a spec must be a mapping of sections (model, optimizer, data, train, "
                    + "backend)");
        }
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> section(Map<String, Object> spec, String name) {
        Object s = spec.get(name);
        if (s == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            spec.put(name, m);
            return m;
        }
        if (!(s instanceof Map)) {
            throw new CliException(name + ": must be a section (a mapping), got " + s);
        }
        return (Map<String, Object>) s;
    }

    /** Applies {@code section.key=value} overrides. */
    static void applySets(Map<String, Object> spec, List<String> sets) {
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new CliException("--set " + set + ": expected section.key=value, for example train.steps=100");
            }
            String key = set.substring(0, eq).trim();
            String raw = set.substring(eq + 1);
            String[] path = key.split("\\.");
            if (path.length != 2 || path[0].isEmpty() || path[1].isEmpty()) {
                throw new CliException("--set " + set + ": the key must be section.key, for example "
                        + "optimizer.lr=3e-4");
            }
            Object value;
            try {
                value = raw.isEmpty() ? "" : YAML.readValue(raw, Object.class);
            } catch (JsonProcessingException e) {
                value = raw;
            }
            section(spec, path[0]).put(path[1], value);
        }
    }

    /** Makes {@code data.path} (and the text dataset's {@code data.jsonl_path}) absolute against {@code base} (the working directory). */
    static void resolvePaths(Map<String, Object> spec, Path base) {
        Object d = spec.get("data");
        for (String key : List.of("path", "jsonl_path")) {
            if (d instanceof Map<?, ?> data && data.get(key) instanceof String p && !p.isBlank()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) data;
                m.put(key, base.resolve(p).toAbsolutePath().normalize().toString());
            }
        }
    }
}
