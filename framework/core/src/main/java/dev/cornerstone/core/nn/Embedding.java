package dev.cornerstone.core.nn;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.Tensor;

/** A lookup table (num, dim), parameter {@code <name>.weight}. */
public record Embedding(String name, int num, int dim) {

    public Embedding init(ParamSet p, float std) {
        p.normal(name + ".weight", std, num, dim);
        return this;
    }

    public Var weight(Ops ops, ParamSet p) {
        return ops.param(name + ".weight", p.get(name + ".weight"));
    }

    /** Rows picked by I32 {@code ids}; result (ids..., dim). */
    public Var forward(Ops ops, ParamSet p, Tensor ids) {
        return ops.embedding(weight(ops, p), ids);
    }
}
