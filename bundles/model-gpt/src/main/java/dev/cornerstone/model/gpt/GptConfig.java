package dev.cornerstone.model.gpt;

import java.util.Map;

import dev.cornerstone.core.config.Settings;

/**
 * The shape of a GPT (Radford et al. 2019, "Language Models are Unsupervised Multitask
 * Learners"; nanoGPT's GPTConfig).
 *
 * @param nLayer    transformer blocks (default 4)
 * @param nHead     attention heads per block (default 4); must divide nEmbd
 * @param nEmbd     channels of the residual stream (default 128)
 * @param blockSize longest context in tokens (default 64)
 * @param vocabSize tokens in the vocabulary; the trainer sets it from the tokenizer
 * @param dropout   dropout probability on embeddings, attention output and MLP output (default 0)
 * @param bias      whether Linear and LayerNorm layers have biases (default true, as GPT-2)
 */
public record GptConfig(int nLayer, int nHead, int nEmbd, int blockSize, int vocabSize, float dropout, boolean bias) {

    public GptConfig {
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("model.n_embd=" + nEmbd + " must be divisible by model.n_head=" + nHead);
        }
    }

    /** Reads the spec's {@code model} section; every error names the key. */
    public static GptConfig from(Map<String, Object> section) {
        Settings s = new Settings("model", section);
        GptConfig c = new GptConfig(
                s.integer("n_layer", 4, 1, 256),
                s.integer("n_head", 4, 1, 256),
                s.integer("n_embd", 128, 1, 65536),
                s.integer("block_size", 64, 1, 65536),
                s.requiredInteger("vocab_size", 1, 1 << 24),
                (float) s.number("dropout", 0.0, 0.0, 0.95),
                s.bool("bias", true));
        s.finish();
        return c;
    }

    public Map<String, Object> toMap() {
        return Map.of("name", "gpt", "n_layer", nLayer, "n_head", nHead, "n_embd", nEmbd, "block_size", blockSize,
                "vocab_size", vocabSize, "dropout", (double) dropout, "bias", bias);
    }
}
