package dev.cornerstone.lora;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.core.config.Settings;
import dev.cornerstone.core.nn.NamePattern;

/**
 * The {@code lora} section of a fine-tuning spec (Hu et al. 2021, "LoRA: Low-Rank Adaptation
 * of Large Language Models"; the names follow Hugging Face PEFT's LoraConfig).
 *
 * <pre>
 * lora:
 *   rank: 8                          r, the rank of the update B·A (default 8)
 *   alpha: 16                        the update is scaled by alpha / rank (default 16)
 *   dropout: 0.0                     dropout on the adapter's input while training (default 0)
 *   target_modules: [h.*.attn.c_attn]  Linear layers to adapt, as name patterns (default: GPT-2's attention input projection)
 *   target_embeddings: []            embedding tables to adapt, as name patterns (default none), for example [wte]
 *   train_also: []                   base parameters that train as they are, by name pattern (default none): a
 *                                    trained copy of each is part of the adapter (PEFT's modules_to_save), for
 *                                    example the LayerNorms [h.*.ln_*, ln_f] or the Linear biases [h.*.*.*.bias]
 *   lr_ratio_b: 1                    the Linear layers' B learn at this times the rate of the adapter's other
 *                                    parameters (LoRA+, Hayou et al. 2024, who use 2 to 16; default 1: one rate)
 *   lr_ratio_train_also: 1           the trained copies of train_also learn at this times that rate (default 1)
 *   rank_pattern: {}                 another rank for the adapted layers or tables a pattern names, e.g. {wpe: 8}
 *   alpha_pattern: {}                another alpha the same way (PEFT's rank_pattern, alpha_pattern); the first
 *                                    pattern that names a layer applies; each must name an adapted one
 * </pre>
 */
public record LoraConfig(int rank, double alpha, float dropout, List<NamePattern> targetModules,
                         List<NamePattern> targetEmbeddings, List<NamePattern> trainAlso, double lrRatioB,
                         double lrRatioTrainAlso, SequencedMap<NamePattern, Integer> rankPattern, SequencedMap<NamePattern, Double> alphaPattern) {

    static final String SECTION = "lora";
    static final List<String> DEFAULT_TARGETS = List.of("h.*.attn.c_attn");

    public LoraConfig {
        targetModules = List.copyOf(targetModules);
        targetEmbeddings = List.copyOf(targetEmbeddings);
        trainAlso = List.copyOf(trainAlso);
        rankPattern = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(alphaPattern));
    }

    /** Linear layers only, without {@code target_embeddings} and {@code train_also}, one learning rate. */
    public LoraConfig(int rank, double alpha, float dropout, List<NamePattern> targetModules) {
        this(rank, alpha, dropout, targetModules, List.of(), List.of(), 1.0, 1.0, new LinkedHashMap<>(),
                new LinkedHashMap<>());
    }

    /** {@code alpha / rank}: what B·A is multiplied by (where no pattern gives another rank or alpha). */
    public float scale() {
        return (float) (alpha / rank);
    }

    /** The rank of adapted layer or table {@code module}: the first {@code rank_pattern} that names it, else rank. */
    public int rank(String module) {
        for (var e : rankPattern.entrySet()) {
            if (e.getKey().matches(module)) {
                return e.getValue();
            }
        }
        return rank;
    }

    /** The alpha of {@code module}: the first {@code alpha_pattern} that names it, else alpha. */
    public double alpha(String module) {
        for (var e : alphaPattern.entrySet()) {
            if (e.getKey().matches(module)) {
                return e.getValue();
            }
        }
        return alpha;
    }

    /** {@code alpha(module) / rank(module)}: what that module's B·A is multiplied by. */
    public float scale(String module) {
        return (float) (alpha(module) / rank(module));
    }

    /** Reads the section; every error names the key ({@code lora.rank}), the value and what is allowed. */
    public static LoraConfig from(Map<String, Object> section) {
        Map<String, Object> values = section == null ? Map.of() : section;
        Settings s = new Settings(SECTION, values);
        int rank = s.integer("rank", 8, 1, 4096);
        double alpha = s.number("alpha", 16, 1e-6, 1e6);
        float dropout = (float) s.number("dropout", 0.0, 0.0, 0.95);
        List<NamePattern> targets = s.has("target_modules")
                ? NamePattern.parseAll(SECTION + ".target_modules", values.get("target_modules"))
                : NamePattern.parseAll(SECTION + ".target_modules", DEFAULT_TARGETS);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException(SECTION + ".target_modules: an empty list adapts nothing; name at "
                    + "least one Linear layer, for example h.*.attn.c_attn");
        }
        List<NamePattern> embeddings = s.has("target_embeddings")
                ? NamePattern.parseAll(SECTION + ".target_embeddings", values.get("target_embeddings")) : List.of();
        List<NamePattern> trainAlso = s.has("train_also")
                ? NamePattern.parseAll(SECTION + ".train_also", values.get("train_also")) : List.of();
        double lrRatioB = ratio(s, "lr_ratio_b", "the Linear layers' B (1: as A)");
        double lrRatioTrainAlso = ratio(s, "lr_ratio_train_also", "the trained copies of train_also");
        SequencedMap<NamePattern, Integer> rankPattern = new LinkedHashMap<>();
        Map<String, Object> ranks = patternMap(s, values, "rank_pattern");
        Settings rs = new Settings(SECTION + ".rank_pattern", ranks);
        ranks.keySet().forEach(k -> rankPattern.put(pattern("rank_pattern", k), rs.integer(k, 1, 1, 4096)));
        SequencedMap<NamePattern, Double> alphaPattern = new LinkedHashMap<>();
        Map<String, Object> alphas = patternMap(s, values, "alpha_pattern");
        Settings as = new Settings(SECTION + ".alpha_pattern", alphas);
        alphas.keySet().forEach(k -> alphaPattern.put(pattern("alpha_pattern", k), as.number(k, 1, 1e-6, 1e6)));
        s.finish();
        return new LoraConfig(rank, alpha, dropout, targets, embeddings, trainAlso, lrRatioB, lrRatioTrainAlso,
                rankPattern,
                alphaPattern);
    }

    /** The map under {@code key} ({@code rank_pattern: {wpe: 8}}), its keys as strings; empty when not given. */
    private static Map<String, Object> patternMap(Settings s, Map<String, Object> values, String key) {
        Map<String, Object> entries = new LinkedHashMap<>();
        if (!s.has(key)) {
            return entries;
        }
        if (!(values.get(key) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(SECTION + "." + key + ": " + values.get(key) + " is not allowed; expected "
                    + "a map of name pattern to value, for example {wpe: 8}");
        }
        m.forEach((k, v) -> entries.put(String.valueOf(k), v));
        return entries;
    }

    /** A factor on the adapter's learning rate, in (0, 1000], default 1. */
    private static double ratio(Settings s, String key, String what) {
        double r = s.number(key, 1.0, 0.0, 1e3);
        if (r <= 0) {
            throw new IllegalArgumentException(SECTION + "." + key + ": " + r + " is not allowed; expected a number in "
                    + "(0, 1000], the factor on the learning rate of " + what);
        }
        return r;
    }

    private static NamePattern pattern(String key, String text) {
        return NamePattern.parseAll(SECTION + "." + key, text).getFirst();
    }

    /** The resolved section, as stored with the adapter. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rank", rank);
        m.put("alpha", alpha);
        m.put("dropout", (double) dropout);
        List<String> t = new ArrayList<>();
        targetModules.forEach(p -> t.add(p.pattern()));
        m.put("target_modules", t);
        m.put("target_embeddings", targetEmbeddings.stream().map(NamePattern::pattern).toList());
        m.put("train_also", trainAlso.stream().map(NamePattern::pattern).toList());
        m.put("lr_ratio_b", lrRatioB);
        m.put("lr_ratio_train_also", lrRatioTrainAlso);
        Map<String, Object> ranks = new LinkedHashMap<>();
        rankPattern.forEach((p, r) -> ranks.put(p.pattern(), r));
        m.put("rank_pattern", ranks);
        Map<String, Object> alphas = new LinkedHashMap<>();
        alphaPattern.forEach((p, a) -> alphas.put(p.pattern(), a));
        m.put("alpha_pattern", alphas);
        return m;
    }
}
