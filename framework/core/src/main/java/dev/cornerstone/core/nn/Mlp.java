package dev.cornerstone.core.nn;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;

/**
 * GPT-2's feed-forward block: {@code c_fc} (4C, C), GELU (tanh approximation), {@code c_proj}
 * (C, 4C), dropout.
 */
public record Mlp(String name, int nEmbd, boolean bias, float dropout) {

    Linear cFc() {
        return new Linear(name + ".c_fc", nEmbd, 4 * nEmbd, bias);
    }

    Linear cProj() {
        return new Linear(name + ".c_proj", 4 * nEmbd, nEmbd, bias);
    }

    public Mlp init(ParamSet p, float std, float projStd) {
        cFc().init(p, std);
        cProj().init(p, projStd);
        return this;
    }

    /** x (B, T, C) to (B, T, C). */
    public Var forward(Ops ops, ParamSet p, Var x) {
        Var h = cFc().forward(ops, p, x);   // (B, T, 4C)
        h = ops.gelu(h);
        h = cProj().forward(ops, p, h);     // (B, T, C)
        return ops.dropout(h, dropout);
    }
}
