package dev.cornerstone.core.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.cornerstone.core.config.Settings;

/**
 * A training job's spec: sections {@code model}, {@code optimizer}, {@code data},
 * {@code train}, {@code backend}. The {@code train} section is read here (every key typed,
 * ranged and defaulted); the others keep their {@code name} here and the rest of their
 * keys go to the provider of that name, which validates them.
 *
 * <pre>
 * train:
 *   batch_size: 32        sequences per micro-batch
 *   grad_accum: 1         micro-batches per optimizer step
 *   steps: 2000           optimizer steps
 *   eval_every: 100       evaluate on the validation split every so many steps (0: never)
 *   eval_batches: 20      validation batches per evaluation
 *   log_every: 10         write a metrics line every so many steps
 *   checkpoint_every: 500 save a checkpoint every so many steps (0: only at the end)
 *   seed: 1337            seed of initialisation, batches and dropout
 *   grad_clip: 0          clip the global gradient norm (0: off)
 *   lr_schedule: constant constant | cosine (linear warm-up, then cosine decay)
 *   warmup_steps: 0       for cosine; more than steps is cut to steps (so --set train.steps=N just works)
 *   min_lr: lr / 10       for cosine
 * optimizer: {name: adamw, lr: 1e-3, ...}
 * </pre>
 */
public record TrainSpec(Map<String, Object> model, Map<String, Object> optimizer, Map<String, Object> data,
                        Map<String, Object> backend, Train train) {

    static final Set<String> SECTIONS = Set.of("model", "optimizer", "data", "train", "backend");

    /** The {@code train} section. */
    public record Train(int batchSize, int gradAccum, int steps, int evalEvery, int evalBatches, int logEvery,
                        int checkpointEvery, long seed, float gradClip, String lrSchedule, int warmupSteps,
                        float lr, float minLr) {

        public LrSchedule schedule() {
            return "cosine".equals(lrSchedule) ? new LrSchedule.WarmupCosine(lr, minLr, warmupSteps, steps)
                    : new LrSchedule.Constant(lr);
        }
    }

    public String modelName() {
        return String.valueOf(model.get("name"));
    }

    public String optimizerName() {
        return String.valueOf(optimizer.get("name"));
    }

    public String dataName() {
        return String.valueOf(data.get("name"));
    }

    public String backendName() {
        return String.valueOf(backend.get("name"));
    }

    /** The section without its {@code name} (and, for the optimizer, without {@code lr}): what the provider reads. */
    public static Map<String, Object> providerKeys(Map<String, Object> section, String... drop) {
        Map<String, Object> m = new LinkedHashMap<>(section);
        m.remove("name");
        for (String d : drop) {
            m.remove(d);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    public static TrainSpec from(Map<String, Object> spec) {
        for (String k : spec.keySet()) {
            if (!SECTIONS.contains(k)) {
                throw new IllegalArgumentException(k + " is not a section of a spec; sections: backend, data, model, "
                        + "optimizer, train");
            }
        }
        Map<String, Object> model = section(spec, "model", "gpt");
        Map<String, Object> optimizer = section(spec, "optimizer", "adamw");
        Map<String, Object> data = section(spec, "data", "text");
        Map<String, Object> backend = section(spec, "backend", "cpu");
        for (String k : backend.keySet()) {
            if (!k.equals("name")) {
                throw new IllegalArgumentException("backend." + k + " is not a key of the backend section, which "
                        + "takes only name (cpu, opencl, cuda or auto); a backend's own settings, such as the CPU "
                        + "backend's threads, are its configuration: deploy/dev.cornerstone.backend.cpu.cfg with "
                        + "threads=N");
            }
        }

        Settings lrs = new Settings("optimizer", Map.of("lr", optimizer.getOrDefault("lr", 1e-3)));
        float lr = (float) lrs.number("lr", 1e-3, 0.0, 10.0);
        optimizer.put("lr", (double) lr);

        Settings t = new Settings("train", (Map<String, Object>) spec.get("train"));
        int steps = t.integer("steps", 2000, 1, Integer.MAX_VALUE);
        Train train = new Train(
                t.integer("batch_size", 32, 1, 1 << 20),
                t.integer("grad_accum", 1, 1, 1 << 16),
                steps,
                t.integer("eval_every", 100, 0, Integer.MAX_VALUE),
                t.integer("eval_batches", 20, 0, 1 << 20),
                t.integer("log_every", 10, 1, Integer.MAX_VALUE),
                t.integer("checkpoint_every", 500, 0, Integer.MAX_VALUE),
                t.longValue("seed", 1337),
                (float) t.number("grad_clip", 0.0, 0.0, 1e9),
                t.choice("lr_schedule", "constant", "constant", "cosine"),
                Math.min(steps, t.integer("warmup_steps", 0, 0, Integer.MAX_VALUE)),
                lr,
                (float) t.number("min_lr", lr / 10.0, 0.0, lr));
        t.finish();
        return new TrainSpec(model, optimizer, data, backend, train);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> spec, String name, String defaultName) {
        Object v = spec.get(name);
        if (v != null && !(v instanceof Map)) {
            throw new IllegalArgumentException(name + ": must be a section (a mapping of keys), got " + v);
        }
        Map<String, Object> m = new LinkedHashMap<>(v == null ? Map.of() : (Map<String, Object>) v);
        Object n = m.getOrDefault("name", defaultName);
        if (!(n instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException(name + ".name: " + n + " is not allowed; expected a non-empty string");
        }
        m.put("name", s);
        return m;
    }

    /** The resolved spec as it is stored with a run. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("optimizer", optimizer);
        m.put("data", data);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("batch_size", train.batchSize());
        t.put("grad_accum", train.gradAccum());
        t.put("steps", train.steps());
        t.put("eval_every", train.evalEvery());
        t.put("eval_batches", train.evalBatches());
        t.put("log_every", train.logEvery());
        t.put("checkpoint_every", train.checkpointEvery());
        t.put("seed", train.seed());
        t.put("grad_clip", (double) train.gradClip());
        t.put("lr_schedule", train.lrSchedule());
        t.put("warmup_steps", train.warmupSteps());
        t.put("min_lr", (double) train.minLr());
        m.put("train", t);
        m.put("backend", backend);
        return m;
    }
}
