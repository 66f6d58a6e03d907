package dev.cornerstone.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;

/**
 * Autoregressive sampling from a causal language model, as nanoGPT's {@code generate}: the
 * last {@code block_size} tokens in, the logits of the last position out, divided by the
 * temperature, cut to the {@code top_k} largest, softmax, one token drawn from a generator
 * seeded by {@code seed} (the same seed gives the same text). Temperature 0 takes the most
 * likely token.
 */
public final class Sampler {

    private final ComputeBackend be;
    private final Model model;

    public Sampler(ComputeBackend backend, Model model) {
        this.be = backend;
        this.model = model;
    }

    public int[] sample(int[] prompt, int tokens, double temperature, int topK, long seed) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generate: the prompt must have at least one token");
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("generate: temperature " + temperature + " must be >= 0");
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("generate: tokens " + tokens + " must be >= 0");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] seq = Arrays.copyOf(prompt, prompt.length + tokens);
        int len = prompt.length;
        for (int i = 0; i < tokens; i++) {
            int start = Math.max(0, len - model.blockSize());
            int t = len - start;
            float[] logits;
            try (Tape tape = new Tape(be); Tensor ids = be.allocate(Shape.of(1, t), DType.I32)) {
                be.writeInts(ids, 0, seq, start, t);
                Var out = model.forward(Graph.inference(be, tape), ids);   // (1, T, V)
                int v = out.shape().dim(-1);
                logits = new float[v];
                be.read(out.value(), (long) (t - 1) * v, logits, 0, v);
            }
            seq[len++] = pick(logits, temperature, topK, rnd);
        }
        return Arrays.copyOfRange(seq, prompt.length, len);
    }

    static int pick(float[] logits, double temperature, int topK, SplittableRandom rnd) {
        int v = logits.length;
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < v; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double cutoff = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < v) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            cutoff = sorted[v - topK];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = logits[i] < cutoff ? 0 : Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double r = rnd.nextDouble() * sum;
        for (int i = 0; i < v; i++) {
            r -= p[i];
            if (r <= 0 && p[i] > 0) {
                return i;
            }
        }
        for (int i = v - 1; i >= 0; i--) {
            if (p[i] > 0) {
                return i;
            }
        }
        return 0;
    }
}
