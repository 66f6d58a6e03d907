package dev.cornerstone.model.gpt;

import java.util.HashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.HiddenStates;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.nn.CausalSelfAttention;
import dev.cornerstone.core.nn.Embedding;
import dev.cornerstone.core.nn.LayerNorm;
import dev.cornerstone.core.nn.Mlp;
import dev.cornerstone.core.nn.ParamSet;

/**
 * A GPT-2-style decoder (Radford et al. 2019), read top to bottom as the paper:
 * token and learned position embeddings, {@code n_layer} pre-LayerNorm blocks
 * ({@code x + attn(ln_1(x))}, then {@code x + mlp(ln_2(x))}), a final LayerNorm and a head
 * tied to the token embedding; {@link #hiddenStates} is the same pass without that head, for
 * task heads such as a classifier. Parameter names are GPT-2's ({@code wte.weight},
 * {@code h.0.attn.c_attn.weight}, {@code ln_f.weight}, ...), with torch.nn.Linear's
 * (out, in) weight layout, as nanoGPT's state_dict.
 *
 * <p>Initialisation as GPT-2: weights N(0, 0.02), the residual projections ({@code c_proj})
 * N(0, 0.02/sqrt(2 n_layer)), biases zero, LayerNorm weights one.
 */
public final class Gpt implements Model, HiddenStates {

    private final GptConfig cfg;
    private final ParamSet p;
    private final Embedding wte;
    private final Embedding wpe;
    private final LayerNorm[] ln1;
    private final CausalSelfAttention[] attn;
    private final LayerNorm[] ln2;
    private final Mlp[] mlp;
    private final LayerNorm lnF;
    /** Position ids 0..T-1 per sequence length T, made once. */
    private final Map<Integer, Tensor> positions = new HashMap<>();

    public Gpt(ComputeBackend backend, GptConfig cfg, long seed) {
        this.cfg = cfg;
        this.p = new ParamSet(backend, seed);
        // a backend that runs out of memory half-way must get back what was allocated
        try {
            float std = 0.02f;
            float projStd = (float) (0.02 / Math.sqrt(2.0 * cfg.nLayer()));
            int c = cfg.nEmbd();
            wte = new Embedding("wte", cfg.vocabSize(), c).init(p, std);
            wpe = new Embedding("wpe", cfg.blockSize(), c).init(p, std);
            ln1 = new LayerNorm[cfg.nLayer()];
            attn = new CausalSelfAttention[cfg.nLayer()];
            ln2 = new LayerNorm[cfg.nLayer()];
            mlp = new Mlp[cfg.nLayer()];
            for (int l = 0; l < cfg.nLayer(); l++) {
                String h = "h." + l;
                ln1[l] = new LayerNorm(h + ".ln_1", c, LayerNorm.DEFAULT_EPS, cfg.bias()).init(p);
                attn[l] = new CausalSelfAttention(h + ".attn", c, cfg.nHead(), cfg.bias(), cfg.dropout())
                        .init(p, std, projStd);
                ln2[l] = new LayerNorm(h + ".ln_2", c, LayerNorm.DEFAULT_EPS, cfg.bias()).init(p);
                mlp[l] = new Mlp(h + ".mlp", c, cfg.bias(), cfg.dropout()).init(p, std, projStd);
            }
            lnF = new LayerNorm("ln_f", c, LayerNorm.DEFAULT_EPS, cfg.bias()).init(p);
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    public GptConfig gptConfig() {
        return cfg;
    }

    @Override
    public SequencedMap<String, Tensor> parameters() {
        return p.view();
    }

    @Override
    public Map<String, Object> config() {
        return cfg.toMap();
    }

    @Override
    public int blockSize() {
        return cfg.blockSize();
    }

    /** ids I32 (B, T) with T ≤ block_size, to logits (B, T, V). */
    @Override
    public Var forward(Ops ops, Tensor ids) {
        Var x = hiddenStates(ops, ids);                         // (B, T, C)
        return ops.linear(x, wte.weight(ops, p));               // (B, T, V), tied to wte
    }

    @Override
    public int hiddenSize() {
        return cfg.nEmbd();
    }

    /** ids I32 (B, T) with T ≤ block_size, to the final LayerNorm's output (B, T, C). */
    @Override
    public Var hiddenStates(Ops ops, Tensor ids) {
        Shape s = ids.shape();
        if (s.rank() != 2 || s.dim(1) > cfg.blockSize() || s.dim(1) < 1) {
            throw new IllegalArgumentException("gpt: ids must be (B, T) with 1 ≤ T ≤ block_size " + cfg.blockSize()
                    + ", got " + s);
        }
        int t = s.dim(1);
        Var tok = wte.forward(ops, p, ids);                      // (B, T, C)
        Var pos = wpe.forward(ops, p, positions(ops, t));        // (T, C)
        Var x = ops.dropout(ops.add(tok, pos), cfg.dropout());   // (B, T, C)
        for (int l = 0; l < cfg.nLayer(); l++) {
            x = ops.add(x, attn[l].forward(ops, p, ln1[l].forward(ops, p, x)));
            x = ops.add(x, mlp[l].forward(ops, p, ln2[l].forward(ops, p, x)));
        }
        return lnF.forward(ops, p, x);                          // (B, T, C)
    }

    private Tensor positions(Ops ops, int t) {
        return positions.computeIfAbsent(t, len -> {
            Tensor ids = ops.backend().allocate(Shape.of(len), DType.I32);
            int[] v = new int[len];
            for (int i = 0; i < len; i++) {
                v[i] = i;
            }
            ops.backend().writeInts(ids, 0, v, 0, len);
            return ids;
        });
    }

    /** Number of scalar parameters (the tied head counted once). */
    public long parameterCount() {
        return p.count();
    }

    @Override
    public void close() {
        positions.values().forEach(Tensor::close);
        positions.clear();
        p.close();
    }
}
