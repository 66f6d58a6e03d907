package dev.cornerstone.lora;

import java.util.IdentityHashMap;
import java.util.Map;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The ops of one forward pass with LoRA: everything goes to the wrapped ops unchanged, except a
 * {@link #linear} whose weight is an adapted layer's, which gets the low-rank term added:
 *
 * <pre>
 * y = linear(x, W, b) + scale · linear(linear(dropout(x), A), B)     x (N, C), A (r, C), B (OC, r)
 * </pre>
 *
 * The model never knows: it asks for its parameters by name ({@link #param}), and the weight
 * it gets back is recognised when it reaches {@code linear}, or {@code embedding} for an adapted
 * table ({@code W[ids] + scale · A[ids] B^T}); a base parameter that trains
 * ({@code lora.train_also}) is handed out as its trained copy. A weight used as an embedding table
 * named by {@code target_modules} is refused, as is an adapted table used as a Linear weight.
 */
final class LoraOps implements Ops {

    private final Ops inner;
    private final LoraAdapter adapter;
    /** The weights of adapted layers handed out in this pass, by identity. */
    private final Map<Var, LoraAdapter.Module> adapted = new IdentityHashMap<>();

    LoraOps(Ops inner, LoraAdapter adapter) {
        this.inner = inner;
        this.adapter = adapter;
    }

    /** A base parameter that trains ({@code lora.train_also}) is read from its trained copy. */
    @Override
    public Var param(String name, Tensor value) {
        LoraAdapter.Trained t = adapter.trained(name);
        Var v = t == null ? inner.param(name, value) : inner.param(t.name(), t.value());
        for (LoraAdapter.Module m : adapter.modules()) {
            if (m.weightName().equals(name)) {
                adapted.put(v, m);
            }
        }
        return v;
    }

    @Override
    public Var linear(Var x, Var weight, Var bias) {
        Var y = inner.linear(x, weight, bias);                                        // (N, OC)
        LoraAdapter.Module m = adapted.get(weight);
        if (m == null) {
            return y;
        }
        if (m.embedding()) {
            throw new IllegalArgumentException("lora.target_embeddings: " + m.name() + " is used as a Linear weight "
                    + "(a head tied to the embedding?); target_embeddings adapts tables used for lookups only");
        }
        Var a = inner.param(m.aName(), m.a());
        Var b = inner.param(m.bName(), m.b());
        Var h = inner.linear(inner.dropout(x, adapter.loraConfig().dropout()), a);   // (N, r)
        Var d = inner.linear(h, b);                                                   // (N, OC)
        return inner.add(y, inner.scale(d, m.scale()));
    }

    @Override
    public Var embedding(Var table, Tensor ids) {
        LoraAdapter.Module m = adapted.get(table);
        if (m == null) {
            return inner.embedding(table, ids);
        }
        if (!m.embedding()) {
            throw new IllegalArgumentException("lora.target_modules: " + m.name() + " is used as an embedding table; "
                    + "target_modules adapts Linear layers (for a GPT: h.N.attn.c_attn, h.N.attn.c_proj, h.N.mlp.c_fc, "
                    + "h.N.mlp.c_proj), lora.target_embeddings embedding tables (wte, wpe)");
        }
        Var y = inner.embedding(table, ids);                                          // (S..., C)
        Var a = inner.param(m.aName(), m.a());                                        // (V, r)
        Var b = inner.param(m.bName(), m.b());                                        // (C, r)
        Var d = inner.linear(inner.embedding(a, ids), b);                             // (S..., r) B^T: (S..., C)
        return inner.add(y, inner.scale(d, m.scale()));
    }

    // ---- everything else unchanged -------------------------------------------------------

    @Override
    public ComputeBackend backend() {
        return inner.backend();
    }

    @Override
    public boolean training() {
        return inner.training();
    }

    @Override
    public Var constant(Tensor value) {
        return inner.constant(value);
    }

    @Override
    public Var add(Var a, Var b) {
        return inner.add(a, b);
    }

    @Override
    public Var gelu(Var x) {
        return inner.gelu(x);
    }

    @Override
    public Var layerNorm(Var x, Var weight, Var bias, float eps) {
        return inner.layerNorm(x, weight, bias, eps);
    }

    @Override
    public Var causalSelfAttention(Var qkv, int nHead) {
        return inner.causalSelfAttention(qkv, nHead);
    }

    @Override
    public Var dropout(Var x, float p) {
        return inner.dropout(x, p);
    }

    @Override
    public Var scale(Var x, float alpha) {
        return inner.scale(x, alpha);
    }

    @Override
    public Var pool(Var x, Tensor weights) {
        return inner.pool(x, weights);
    }

    @Override
    public Var reshape(Var x, Shape shape) {
        return inner.reshape(x, shape);
    }

    @Override
    public Var crossEntropy(Var logits, Tensor targets) {
        return inner.crossEntropy(logits, targets);
    }
}
