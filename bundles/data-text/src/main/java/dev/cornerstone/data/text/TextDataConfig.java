package dev.cornerstone.data.text;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The {@code data} section of a run spec for {@code dataset.name=text}, checked once at the boundary.
 * The values come from YAML or JSON, so numbers may be {@link Integer}, {@link Long} or
 * {@link Double}; anything else of the wrong kind is an error naming the key, not a guess.
 *
 * @param path        a UTF-8 text file, or a folder whose {@code *.txt} files are read; relative to
 *                    the spec's folder (required)
 * @param tokenizer   {@code char} (default) or {@code byte}
 * @param valFraction share of the token stream held out for validation, in {@code [0, 0.5]} (default 0.1)
 * @param split       how the validation share is chosen; {@code tail} (default) is the only one
 * @param jsonlPath   optional: a classification set in JSONL (gzip read as is) whose {@code text}
 *                    fields are added to the corpus, labels ignored: unlabelled in-domain text for
 *                    pre-training before fine-tuning on the same set; relative to the spec's folder
 * @param jsonlHoldout the share of that set's records left out, chosen by the same hash as the
 *                    fine-tuning split ({@link dev.cornerstone.data.text.ClassificationSplit}), in
 *                    {@code [0, 1)} (default 0); set it to the fine-tuning run's
 *                    {@code data.val_fraction} so pre-training never sees its held-out texts
 */
public record TextDataConfig(String path, TokenizerType tokenizer, double valFraction, Split split, String jsonlPath,
                             double jsonlHoldout) {

    /** The key prefix in messages: the spec's section. */
    static final String SECTION = "data.";

    public static final String PATH = "path";
    public static final String TOKENIZER = "tokenizer";
    public static final String VAL_FRACTION = "val_fraction";
    public static final String SPLIT = "split";
    public static final String JSONL_PATH = "jsonl_path";
    public static final String JSONL_HOLDOUT = "jsonl_holdout";
    /** The dataset name itself; tolerated when it says {@code text}, in case a caller passes the whole section. */
    public static final String NAME = "name";

    /** nanoGPT holds out the last 10 %. */
    public static final double DEFAULT_VAL_FRACTION = 0.1;
    /** Above half, "validation" would be the main part of the corpus: surely a typo. */
    public static final double MAX_VAL_FRACTION = 0.5;

    private static final List<String> KEYS = List.of(PATH, TOKENIZER, VAL_FRACTION, SPLIT, JSONL_PATH, JSONL_HOLDOUT);

    /** The tokenizers this bundle builds. */
    public enum TokenizerType {
        /** {@link CharTokenizer}: the corpus's characters plus {@code <unk>}. */
        CHAR(CharTokenizer.NAME),
        /** {@link ByteTokenizer}: UTF-8 bytes. */
        BYTE(ByteTokenizer.NAME);

        private final String key;

        TokenizerType(String key) {
            this.key = key;
        }

        /** The spelling in a spec. */
        public String key() {
            return key;
        }
    }

    /** How the token stream is cut into training and validation. */
    public enum Split {
        /** The last {@code val_fraction} of the stream is validation, as nanoGPT: deterministic, no shuffling. */
        TAIL("tail");

        private final String key;

        Split(String key) {
            this.key = key;
        }

        /** The spelling in a spec. */
        public String key() {
            return key;
        }
    }

    public TextDataConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(split, "split");
        if (!(jsonlHoldout >= 0 && jsonlHoldout < 1)) {
            throw new IllegalArgumentException(SECTION + JSONL_HOLDOUT + ": " + jsonlHoldout
                    + " is out of range; allowed: a number in [0, 1)");
        }
    }

    /** A plain corpus, without a JSONL set. */
    public TextDataConfig(String path, TokenizerType tokenizer, double valFraction, Split split) {
        this(path, tokenizer, valFraction, split, null, 0);
    }

    /**
     * Reads and checks the section.
     *
     * @param config the {@code data} section without {@code name}; {@code null} counts as empty
     * @throws IllegalArgumentException naming the key ({@code data.tokenizer}), the value and what is allowed
     */
    public static TextDataConfig parse(Map<String, Object> config) {
        Map<String, Object> section = config == null ? Map.of() : config;
        for (var entry : section.entrySet()) {
            String key = entry.getKey();
            if (NAME.equals(key) && "text".equals(entry.getValue())) {
                continue;
            }
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException(SECTION + key + ": unknown key; allowed keys: " + String.join(", ", KEYS));
            }
        }
        return new TextDataConfig(
                path(section.get(PATH)),
                choice(TOKENIZER, section.get(TOKENIZER), TokenizerType.values(), TokenizerType::key, TokenizerType.CHAR),
                valFraction(section.get(VAL_FRACTION)),
                choice(SPLIT, section.get(SPLIT), Split.values(), Split::key, Split.TAIL),
                jsonlPath(section.get(JSONL_PATH)),
                jsonlHoldout(section.get(JSONL_HOLDOUT), section.get(JSONL_PATH) != null));
    }

    private static String jsonlPath(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String path) || path.isBlank()) {
            throw new IllegalArgumentException(SECTION + JSONL_PATH + ": " + Values.show(value) + " is not a path; "
                    + "expected a JSONL file with a \"text\" field per line (gzip read as is)");
        }
        return path;
    }

    private static double jsonlHoldout(Object value, boolean withJsonl) {
        if (value == null) {
            return 0;
        }
        if (!withJsonl) {
            throw new IllegalArgumentException(SECTION + JSONL_HOLDOUT + ": only means something with "
                    + SECTION + JSONL_PATH);
        }
        if (!(value instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() < 1)) {
            throw new IllegalArgumentException(SECTION + JSONL_HOLDOUT + ": " + Values.show(value)
                    + " is not allowed; expected a number in [0, 1): the fine-tuning run's data.val_fraction");
        }
        return n.doubleValue();
    }

    private static String path(Object value) {
        String allowed = "a UTF-8 text file or a folder of *.txt files, relative to the spec's folder";
        if (value == null) {
            throw new IllegalArgumentException(SECTION + PATH + ": missing; required: " + allowed);
        }
        if (!(value instanceof String path) || path.isBlank()) {
            throw new IllegalArgumentException(SECTION + PATH + ": " + Values.show(value) + " is not a path; expected " + allowed);
        }
        return path;
    }

    private static <E extends Enum<E>> E choice(String key, Object value, E[] options,
                                                Function<E, String> spelling, E fallback) {
        if (value == null) {
            return fallback;
        }
        if (value instanceof String text) {
            for (E option : options) {
                if (spelling.apply(option).equals(text)) {
                    return option;
                }
            }
        }
        String allowed = Arrays.stream(options).map(spelling).collect(Collectors.joining(", "));
        throw new IllegalArgumentException(SECTION + key + ": " + Values.show(value) + " is not supported; allowed: " + allowed);
    }

    private static double valFraction(Object value) {
        if (value == null) {
            return DEFAULT_VAL_FRACTION;
        }
        String allowed = "a number in [0, " + MAX_VAL_FRACTION + "]";
        boolean number = value instanceof Integer || value instanceof Long || value instanceof Double
                || value instanceof Float || value instanceof Short || value instanceof Byte
                || value instanceof BigDecimal || value instanceof BigInteger;
        if (!number) {
            throw new IllegalArgumentException(SECTION + VAL_FRACTION + ": " + Values.show(value) + " is not a number; allowed: " + allowed);
        }
        double fraction = ((Number) value).doubleValue();
        // The negated test also catches NaN.
        if (!(fraction >= 0 && fraction <= MAX_VAL_FRACTION)) {
            throw new IllegalArgumentException(SECTION + VAL_FRACTION + ": " + value + " is out of range; allowed: " + allowed);
        }
        return fraction;
    }
}
