package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Dataset;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.data.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.osgi.service.component.annotations.Component;

/**
 * Plain text as a dataset, {@code dataset.name=text}: a file or a folder of {@code *.txt} files
 * ({@link TextCorpus}), tokenized by characters or UTF-8 bytes, the last {@code val_fraction} of the
 * token stream held out for validation as nanoGPT does. The same spec always gives the same ids.
 *
 * <p>The char vocabulary is built from the whole corpus, validation included (as nanoGPT's
 * {@code prepare.py}), so validation never meets {@code <unk>}.
 *
 * <p>With {@code jsonl_path} the {@code text} fields of a classification set (outside its held-out
 * share, {@code jsonl_holdout}) follow the corpus, each after a line break: the unlabelled half of
 * pre-train-then-fine-tune.
 */
@Component(service = DatasetProvider.class, property = "dataset.name=" + TextDatasetProvider.NAME)
public final class TextDatasetProvider implements DatasetProvider {

    /** The {@code dataset.name} service property. */
    public static final String NAME = "text";

    /**
     * What goes before each text of a JSONL set joined to the corpus: a line break, as between
     * the documents of a corpus (fine-tuning puts the same before each text it classifies).
     */
    public static final String DOCUMENT_SEPARATOR = "\n";

    /** A split needs one input and one target token to give even a single training pair. */
    static final int MIN_SPLIT_TOKENS = 2;

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @throws IllegalArgumentException naming the key ({@code data.path}, {@code data.tokenizer},
     *                                  ...) or the file
     */
    @Override
    public Dataset open(Map<String, Object> config, Path baseDir) {
        Objects.requireNonNull(baseDir, "baseDir");
        TextDataConfig spec = TextDataConfig.parse(config);
        TextCorpus corpus = TextCorpus.read(baseDir.resolve(spec.path()));
        String text = corpus.text();
        String jsonlSource = "";
        if (spec.jsonlPath() != null) {
            Path file = baseDir.resolve(spec.jsonlPath());
            ClassificationSplit split = ClassificationSplit.of(readTexts(file), spec.jsonlHoldout());
            var joined = new StringBuilder(text);
            for (ClassificationExample e : split.train()) {
                joined.append(DOCUMENT_SEPARATOR).append(e.text());
            }
            text = joined.toString();
            jsonlSource = " + the text of " + split.train().size() + " records of " + file.toAbsolutePath().normalize()
                    + " (" + split.validation().size() + " held out, jsonl_holdout " + spec.jsonlHoldout() + ")";
        }
        Tokenizer tokenizer = switch (spec.tokenizer()) {
            case CHAR -> CharTokenizer.fromText(text);
            case BYTE -> ByteTokenizer.INSTANCE;
        };
        int[] ids = tokenizer.encode(text);
        int trainLength = switch (spec.split()) {
            // nanoGPT: train_data = data[:int(n*0.9)]
            case TAIL -> (int) (ids.length * (1 - spec.valFraction()));
        };
        checkSize(spec, corpus, ids.length, trainLength);
        String source = NAME + ": " + corpus.describe() + jsonlSource
                + "; " + tokenizer.name() + " tokenizer (" + tokenizer.vocabSize() + " ids)"
                + "; " + spec.split().key() + " split, val_fraction " + spec.valFraction()
                + ": " + trainLength + " training + " + (ids.length - trainLength) + " validation tokens";
        return new TextDataset(tokenizer,
                Arrays.copyOfRange(ids, 0, trainLength),
                Arrays.copyOfRange(ids, trainLength, ids.length),
                source);
    }

    private static List<ClassificationExample> readTexts(Path file) {
        try {
            return ClassificationJsonl.read(file, ClassificationJsonl.Labels.OPTIONAL);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(TextDataConfig.SECTION + TextDataConfig.JSONL_PATH + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Tokenizer tokenizer(Map<String, Object> description) {
        return TokenizerDescriptions.rebuild(description);
    }

    private static void checkSize(TextDataConfig spec, TextCorpus corpus, int tokens, int trainLength) {
        int validationLength = tokens - trainLength;
        boolean tooSmall = trainLength < MIN_SPLIT_TOKENS
                || (spec.valFraction() > 0 && validationLength < MIN_SPLIT_TOKENS);
        if (tooSmall) {
            throw new IllegalArgumentException(TextDataConfig.SECTION + TextDataConfig.PATH + ": the corpus "
                    + corpus.location() + " is too small for its split: " + tokens + " " + spec.tokenizer().key()
                    + " tokens, " + TextDataConfig.SECTION + TextDataConfig.VAL_FRACTION + " " + spec.valFraction()
                    + " gives " + trainLength + " training and " + validationLength + " validation tokens; each split needs at least "
                    + MIN_SPLIT_TOKENS + " (use a larger corpus, or " + TextDataConfig.SECTION + TextDataConfig.VAL_FRACTION
                    + ": 0 for no validation)");
        }
    }
}
