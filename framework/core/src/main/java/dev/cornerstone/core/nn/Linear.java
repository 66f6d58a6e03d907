package dev.cornerstone.core.nn;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;

/**
 * {@code y = x W^T + b}, weight (out, in) as torch.nn.Linear, parameters
 * {@code <name>.weight} and {@code <name>.bias}.
 */
public record Linear(String name, int in, int out, boolean bias) {

    /** Creates the parameters: weight N(0, std²), bias zero. */
    public Linear init(ParamSet p, float std) {
        p.normal(name + ".weight", std, out, in);
        if (bias) {
            p.zeros(name + ".bias", out);
        }
        return this;
    }

    public Var forward(Ops ops, ParamSet p, Var x) {
        Var w = ops.param(name + ".weight", p.get(name + ".weight"));
        Var b = bias ? ops.param(name + ".bias", p.get(name + ".bias")) : null;
        return ops.linear(x, w, b);
    }
}
