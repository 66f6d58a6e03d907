package dev.cornerstone.finetune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.cornerstone.core.config.Settings;
import dev.cornerstone.core.nn.NamePattern;
import dev.cornerstone.core.train.LrSchedule;

/**
 * A fine-tuning job's spec, every key typed, ranged and defaulted here (the {@code model},
 * {@code lora} and {@code optimizer} sections go on to the provider of their name, which checks
 * the rest of their keys):
 *
 * <pre>
 * finetune:
 *   from: runs/pretrain     the pre-training run whose model, newest weights and tokenizer are fine-tuned
 *                           (--from sets it). Left out: a from-scratch baseline, the model section's
 *                           architecture with fresh weights and data.tokenizer
 *   mode: full              full: every parameter trains | freeze: all but those matching freeze |
 *                           lora: the base stays fixed, LoRA adapters (section lora) train
 *   freeze: [wte, wpe]      mode freeze: parameter-name patterns kept fixed ({@link NamePattern})
 *   pooling: mean           mean: the mean of a text's hidden states | last: the state of its last token (the
 *                           only one that saw the whole text); mean classified the spam example's mails better
 *   body_lr_scale: 1.0      in (0, 1]: every trainable parameter but the head (classifier.*) learns at
 *                           lr × body_lr_scale, the head at lr (a pre-trained body wants a smaller step than
 *                           a fresh head: ULMFiT's discriminative fine-tuning, Howard and Ruder 2018)
 * model: {name: gpt, ...}   only without finetune.from (the architecture; vocab_size comes from the tokenizer)
 * lora: {rank: 8, ...}      only with mode lora: the adapter's settings (bundle dev.cornerstone.lora)
 * data:
 *   path: data/set.jsonl.gz JSONL, one {"text": ..., "label": ...} a line (gzip read as is); required
 *   val_fraction: 0.2       share held out by a hash of each record's id (its text without one), in [0.01, 0.9]
 *   max_tokens: 0           tokens of a text the classifier reads (the first ones); 0: the model's block_size
 *   labels: [ham, spam]     the classes in order; default: the training labels, sorted
 *   tokenizer: byte         only without finetune.from: byte | char (the training texts' characters + unknown)
 * optimizer: {name: adamw, lr: 3e-4, ...}
 * train:
 *   batch_size: 16          texts per step
 *   steps: 300              optimizer steps (an epoch is training texts / batch_size steps)
 *   eval_every: 100         evaluate on the whole held-out split every so many steps, and at the end (0: only at the end)
 *   log_every: 10           write a metrics line every so many steps
 *   checkpoint_every: 0     save a checkpoint every so many steps (0: only at the end)
 *   seed: 1337              seed of the head's (and a scratch model's) initialisation, batches and dropout
 *   grad_clip: 1.0          clip the global gradient norm (0: off)
 *   lr_schedule: constant   constant | cosine (linear warm-up, then cosine decay)
 *   warmup_steps: 0         for cosine; more than steps is cut to steps
 *   min_lr: lr / 10         for cosine
 * backend: {name: cpu}      cpu, opencl, cuda or auto
 * </pre>
 */
public record FineTuneSpec(String from, Mode mode, List<NamePattern> freeze, Pooling pooling, double bodyLrScale,
                           Map<String, Object> model, Map<String, Object> lora, Data data,
                           Map<String, Object> optimizer, Train train, Map<String, Object> backend) {

    static final Set<String> SECTIONS = Set.of("finetune", "model", "lora", "data", "optimizer", "train", "backend");

    /** What trains. */
    public enum Mode {
        FULL, FREEZE, LORA;

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How a text's hidden states become one vector for the head. */
    public enum Pooling {
        /** The state of the last token: under causal attention the only one that has seen the whole text. */
        LAST,
        /** The mean over the text's tokens. */
        MEAN;

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The {@code data} section. {@code maxTokens} 0 means the model's block size; {@code labels} null: from the data. */
    public record Data(String path, double valFraction, int maxTokens, List<String> labels, String tokenizer) {
    }

    /** The {@code train} section. */
    public record Train(int batchSize, int steps, int evalEvery, int logEvery, int checkpointEvery, long seed,
                        float gradClip, String lrSchedule, int warmupSteps, float lr, float minLr) {

        public LrSchedule schedule() {
            return "cosine".equals(lrSchedule) ? new LrSchedule.WarmupCosine(lr, minLr, warmupSteps, steps)
                    : new LrSchedule.Constant(lr);
        }
    }

    public boolean fromScratch() {
        return from == null;
    }

    public String optimizerName() {
        return String.valueOf(optimizer.get("name"));
    }

    public String backendName() {
        return String.valueOf(backend.get("name"));
    }

    @SuppressWarnings("unchecked")
    public static FineTuneSpec from(Map<String, Object> spec) {
        for (String k : spec.keySet()) {
            if (!SECTIONS.contains(k)) {
                throw new IllegalArgumentException(k + " is not a section of a fine-tuning spec; sections: backend, "
                        + "data, finetune, lora, model, optimizer, train");
            }
        }
        Map<String, Object> ftValues = section(spec, "finetune");
        Settings ft = new Settings("finetune", ftValues);
        String from = ft.string("from", null);
        if (from != null && from.isBlank()) {
            throw new IllegalArgumentException("finetune.from: '' is not allowed; expected a pre-training run folder");
        }
        Mode mode = Mode.valueOf(ft.choice("mode", "full", "full", "freeze", "lora").toUpperCase(java.util.Locale.ROOT));
        List<NamePattern> freeze = List.of();
        if (ft.has("freeze")) {
            if (mode != Mode.FREEZE) {
                throw new IllegalArgumentException("finetune.freeze: only means something with finetune.mode: freeze "
                        + "(the mode is " + mode.key() + ")");
            }
            freeze = NamePattern.parseAll("finetune.freeze", ftValues.get("freeze"));
        }
        if (mode == Mode.FREEZE && freeze.isEmpty()) {
            throw new IllegalArgumentException("finetune.freeze: mode freeze needs at least one parameter-name pattern "
                    + "to keep fixed, for example [wte, wpe, h.0]");
        }
        Pooling pooling = Pooling.valueOf(ft.choice("pooling", "mean", "mean", "last").toUpperCase(java.util.Locale.ROOT));
        double bodyLrScale = ft.number("body_lr_scale", 1.0, 0.0, 1.0);
        if (bodyLrScale <= 0) {
            throw new IllegalArgumentException("finetune.body_lr_scale: " + bodyLrScale + " is not allowed; expected "
                    + "a number in (0, 1] (to keep parameters fixed, use mode freeze)");
        }
        ft.finish();

        Map<String, Object> model = null;
        if (spec.get("model") != null) {
            if (from != null) {
                throw new IllegalArgumentException("model: the model comes from finetune.from (" + from + "); a model "
                        + "section is only for a classifier trained from scratch (no finetune.from)");
            }
            model = named(spec, "model", "gpt");
        } else if (from == null) {
            throw new IllegalArgumentException("finetune.from is required (a pre-training run, or --from RUN); "
                    + "without it, a model section says what to train from scratch");
        }

        Map<String, Object> lora = null;
        if (spec.get("lora") != null && mode != Mode.LORA) {
            throw new IllegalArgumentException("lora: only means something with finetune.mode: lora (the mode is "
                    + mode.key() + ")");
        }
        if (mode == Mode.LORA) {
            lora = section(spec, "lora");
        }

        Map<String, Object> dataValues = section(spec, "data");
        Settings d = new Settings("data", dataValues);
        String path = d.string("path", null);
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("data.path is required: a JSONL file with \"text\" and \"label\" on "
                    + "each line (gzip read as is)");
        }
        double valFraction = d.number("val_fraction", 0.2, 0.01, 0.9);
        int maxTokens = d.integer("max_tokens", 0, 0, 1 << 20);
        List<String> labels = null;
        if (d.has("labels")) {
            labels = labels(dataValues.get("labels"));
        }
        String tokenizer = null;
        if (d.has("tokenizer")) {
            if (from != null) {
                throw new IllegalArgumentException("data.tokenizer: the tokenizer comes from finetune.from (" + from
                        + "); data.tokenizer is only for a classifier trained from scratch");
            }
        }
        if (from == null) {
            tokenizer = d.choice("tokenizer", "byte", "byte", "char");
        }
        d.finish();
        Data data = new Data(path, valFraction, maxTokens, labels, tokenizer);

        Map<String, Object> optimizer = named(spec, "optimizer", "adamw");
        Settings lrs = new Settings("optimizer", Map.of("lr", optimizer.getOrDefault("lr", 3e-4)));
        float lr = (float) lrs.number("lr", 3e-4, 0.0, 10.0);
        optimizer.put("lr", (double) lr);

        Settings t = new Settings("train", section(spec, "train"));
        int steps = t.integer("steps", 300, 1, Integer.MAX_VALUE);
        Train train = new Train(
                t.integer("batch_size", 16, 1, 1 << 16),
                steps,
                t.integer("eval_every", 100, 0, Integer.MAX_VALUE),
                t.integer("log_every", 10, 1, Integer.MAX_VALUE),
                t.integer("checkpoint_every", 0, 0, Integer.MAX_VALUE),
                t.longValue("seed", 1337),
                (float) t.number("grad_clip", 1.0, 0.0, 1e9),
                t.choice("lr_schedule", "constant", "constant", "cosine"),
                Math.min(steps, t.integer("warmup_steps", 0, 0, Integer.MAX_VALUE)),
                lr,
                (float) t.number("min_lr", lr / 10.0, 0.0, lr));
        t.finish();

        Map<String, Object> backend = named(spec, "backend", "cpu");
        for (String k : backend.keySet()) {
            if (!k.equals("name")) {
                throw new IllegalArgumentException("backend." + k + " is not a key of the backend section, which takes "
                        + "only name (cpu, opencl, cuda or auto)");
            }
        }
        return new FineTuneSpec(from, mode, freeze, pooling, bodyLrScale, model, lora, data, optimizer, train,
                backend);
    }

    private static List<String> labels(Object v) {
        if (!(v instanceof List<?> list) || list.size() < 2) {
            throw new IllegalArgumentException("data.labels: " + v + " is not allowed; expected a list of at least two "
                    + "class names, for example [ham, spam]");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s) || s.isBlank() || out.contains(s)) {
                throw new IllegalArgumentException("data.labels: " + v + " is not allowed; expected distinct, non-blank "
                        + "class names");
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> spec, String name) {
        Object v = spec.get(name);
        if (v != null && !(v instanceof Map)) {
            throw new IllegalArgumentException(name + ": must be a section (a mapping of keys), got " + v);
        }
        return new LinkedHashMap<>(v == null ? Map.of() : (Map<String, Object>) v);
    }

    private static Map<String, Object> named(Map<String, Object> spec, String name, String defaultName) {
        Map<String, Object> m = section(spec, name);
        Object n = m.getOrDefault("name", defaultName);
        if (!(n instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException(name + ".name: " + n + " is not allowed; expected a non-empty string");
        }
        m.put("name", s);
        return m;
    }

    /** The resolved spec as it is stored with a run; {@link #from(Map)} reads it back. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> f = new LinkedHashMap<>();
        if (from != null) {
            f.put("from", from);
        }
        f.put("mode", mode.key());
        if (mode == Mode.FREEZE) {
            f.put("freeze", freeze.stream().map(NamePattern::pattern).toList());
        }
        f.put("pooling", pooling.key());
        f.put("body_lr_scale", bodyLrScale);
        m.put("finetune", f);
        if (model != null) {
            m.put("model", model);
        }
        if (lora != null) {
            m.put("lora", lora);
        }
        Map<String, Object> dm = new LinkedHashMap<>();
        dm.put("path", data.path());
        dm.put("val_fraction", data.valFraction());
        dm.put("max_tokens", data.maxTokens());
        if (data.labels() != null) {
            dm.put("labels", data.labels());
        }
        if (data.tokenizer() != null) {
            dm.put("tokenizer", data.tokenizer());
        }
        m.put("data", dm);
        m.put("optimizer", optimizer);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("batch_size", train.batchSize());
        t.put("steps", train.steps());
        t.put("eval_every", train.evalEvery());
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

    /** The spec as it ran: the base run's absolute folder, and the labels fixed (the order of the head's rows). */
    FineTuneSpec resolved(String absoluteFrom, List<String> labels) {
        return new FineTuneSpec(absoluteFrom, mode, freeze, pooling, bodyLrScale, model, lora,
                new Data(data.path(), data.valFraction(), data.maxTokens(), labels, data.tokenizer()), optimizer, train,
                backend);
    }
}
