package dev.cornerstone.core.nn;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;

/**
 * LayerNorm over the last dimension (Ba, Kiros and Hinton 2016): parameter
 * {@code <name>.weight} (ones) and, with {@code bias}, {@code <name>.bias} (zeros). Without
 * bias (GPT's {@code bias: false}) a zero constant stands in, so no bias is trained or saved.
 */
public record LayerNorm(String name, int dim, float eps, boolean bias) {

    public static final float DEFAULT_EPS = 1e-5f;

    public LayerNorm init(ParamSet p) {
        p.ones(name + ".weight", dim);
        if (bias) {
            p.zeros(name + ".bias", dim);
        } else {
            p.zeroBuffer(name + ".bias", dim);
        }
        return this;
    }

    public Var forward(Ops ops, ParamSet p, Var x) {
        Var b = bias ? ops.param(name + ".bias", p.get(name + ".bias")) : ops.constant(p.buffer(name + ".bias"));
        return ops.layerNorm(x, ops.param(name + ".weight", p.get(name + ".weight")), b, eps);
    }
}
