package dev.cornerstone.core.nn;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;

/**
 * Causal multi-head self-attention (Vaswani et al. 2017, "Attention Is All You Need"), as
 * GPT-2: one projection to q, k, v ({@code <name>.c_attn}, (3C, C)), attention per head with
 * a causal mask, an output projection ({@code <name>.c_proj}, (C, C)) and residual dropout.
 */
public record CausalSelfAttention(String name, int nEmbd, int nHead, boolean bias, float dropout) {

    public CausalSelfAttention {
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("n_embd " + nEmbd + " is not divisible by n_head " + nHead);
        }
    }

    Linear cAttn() {
        return new Linear(name + ".c_attn", nEmbd, 3 * nEmbd, bias);
    }

    Linear cProj() {
        return new Linear(name + ".c_proj", nEmbd, nEmbd, bias);
    }

    /** {@code projStd}: GPT-2 scales the residual projection's std by 1/sqrt(2 n_layer). */
    public CausalSelfAttention init(ParamSet p, float std, float projStd) {
        cAttn().init(p, std);
        cProj().init(p, projStd);
        return this;
    }

    /** x (B, T, C) to (B, T, C). */
    public Var forward(Ops ops, ParamSet p, Var x) {
        Var qkv = cAttn().forward(ops, p, x);                 // (B, T, 3C)
        Var y = ops.causalSelfAttention(qkv, nHead);          // (B, T, C)
        y = cProj().forward(ops, p, y);                       // (B, T, C)
        return ops.dropout(y, dropout);
    }
}
