package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Dataset;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.data.Tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
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
 */
@Component(service = DatasetProvider.class, property = "dataset.name=" + TextDatasetProvider.NAME)
public final class TextDatasetProvider implements DatasetProvider {

    /** The {@code dataset.name} service property. */
    public static final String NAME = "text";

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
        Tokenizer tokenizer = switch (spec.tokenizer()) {
            case CHAR -> CharTokenizer.fromText(corpus.text());
            case BYTE -> ByteTokenizer.INSTANCE;
        };
        int[] ids = tokenizer.encode(corpus.text());
        int trainLength = switch (spec.split()) {
            // nanoGPT: train_data = data[:int(n*0.9)]
            case TAIL -> (int) (ids.length * (1 - spec.valFraction()));
        };
        checkSize(spec, corpus, ids.length, trainLength);
        String source = NAME + ": " + corpus.describe()
                + "; " + tokenizer.name() + " tokenizer (" + tokenizer.vocabSize() + " ids)"
                + "; " + spec.split().key() + " split, val_fraction " + spec.valFraction()
                + ": " + trainLength + " training + " + (ids.length - trainLength) + " validation tokens";
        return new TextDataset(tokenizer,
                Arrays.copyOfRange(ids, 0, trainLength),
                Arrays.copyOfRange(ids, trainLength, ids.length),
                source);
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
