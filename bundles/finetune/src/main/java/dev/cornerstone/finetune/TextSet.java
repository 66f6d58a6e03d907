package dev.cornerstone.finetune;

import java.nio.file.Path;
import java.util.List;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.Tokenizer;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.data.text.ClassificationExample;
import dev.cornerstone.data.text.TextDatasetProvider;

/**
 * Texts to classify as token ids: each text is encoded after a line break (the separator a
 * pre-training corpus puts before each document, {@link TextDatasetProvider#DOCUMENT_SEPARATOR},
 * which also gives an empty text one token) and cut to its first {@code maxTokens} tokens.
 *
 * @param ids    token ids per text, 1 to maxTokens of them
 * @param labels the index of each text's label in the class list, -1 when it has none
 * @param lines  the line of the file each text came from
 * @param keys   each text's {@code id} field, or null
 */
record TextSet(int[][] ids, int[] labels, int[] lines, String[] keys) {

    static final String PREFIX = TextDatasetProvider.DOCUMENT_SEPARATOR;

    int size() {
        return ids.length;
    }

    /**
     * @param classes the labels in head order
     * @throws IllegalArgumentException for a label that is not one of {@code classes}, naming the file and line
     */
    static TextSet encode(List<ClassificationExample> examples, Tokenizer tokenizer, int maxTokens, List<String> classes,
                          Path file, String whatClassesAre) {
        int n = examples.size();
        int[][] ids = new int[n][];
        int[] labels = new int[n];
        int[] lines = new int[n];
        String[] keys = new String[n];
        for (int i = 0; i < n; i++) {
            ClassificationExample e = examples.get(i);
            ids[i] = encode(tokenizer, e.text(), maxTokens);
            lines[i] = e.line();
            keys[i] = e.id();
            if (e.label() == null) {
                labels[i] = -1;
            } else {
                labels[i] = classes.indexOf(e.label());
                if (labels[i] < 0) {
                    throw new IllegalArgumentException(file + " line " + e.line() + ": label '" + e.label() + "' is not "
                            + "one of " + whatClassesAre + ": " + String.join(", ", classes));
                }
            }
        }
        return new TextSet(ids, labels, lines, keys);
    }

    /** The ids the classifier reads for {@code text}: at least one, at most {@code maxTokens}. */
    static int[] encode(Tokenizer tokenizer, String text, int maxTokens) {
        int[] all = tokenizer.encode(PREFIX + text);
        if (all.length == 0) {
            throw new IllegalStateException("the " + tokenizer.name() + " tokenizer gave no token for a line break");
        }
        return all.length <= maxTokens ? all : java.util.Arrays.copyOf(all, maxTokens);
    }

    /** Real (not padding) tokens in the texts at {@code indices}. */
    long tokens(int[] indices) {
        long t = 0;
        for (int i : indices) {
            t += ids[i].length;
        }
        return t;
    }

    /**
     * The texts at {@code indices} as tensors: ids I32 (B, T) padded on the right with id 0 to
     * the longest, T its length; pooling weights F32 (B, T) that read only a text's own tokens
     * (under causal attention padding after a text never reaches its tokens); labels I32 (B).
     */
    Batch batch(ComputeBackend be, int[] indices, FineTuneSpec.Pooling pooling) {
        int b = indices.length;
        int t = 1;
        for (int i : indices) {
            t = Math.max(t, ids[i].length);
        }
        int[] x = new int[b * t];
        float[] w = new float[b * t];
        int[] y = new int[b];
        for (int r = 0; r < b; r++) {
            int[] row = ids[indices[r]];
            System.arraycopy(row, 0, x, r * t, row.length);
            if (pooling == FineTuneSpec.Pooling.LAST) {
                w[r * t + row.length - 1] = 1f;
            } else {
                for (int k = 0; k < row.length; k++) {
                    w[r * t + k] = 1f / row.length;
                }
            }
            y[r] = labels[indices[r]];
        }
        Tensor idsT = be.allocate(Shape.of(b, t), DType.I32);
        Tensor weightsT = be.allocate(Shape.of(b, t), DType.F32);
        Tensor labelsT = be.allocate(Shape.of(b), DType.I32);
        be.writeInts(idsT, 0, x, 0, x.length);
        be.write(weightsT, 0, w, 0, w.length);
        be.writeInts(labelsT, 0, y, 0, y.length);
        return new Batch(idsT, weightsT, labelsT, b, tokens(indices));
    }

    /** One batch on the backend; closing it frees its tensors. */
    record Batch(Tensor ids, Tensor weights, Tensor labels, int size, long tokens) implements AutoCloseable {
        @Override
        public void close() {
            ids.close();
            weights.close();
            labels.close();
        }
    }
}
