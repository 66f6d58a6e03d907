package dev.cornerstone.api.autograd;

import org.osgi.annotation.versioning.ProviderType;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The differentiable operations a model is written with. Each records its backward kernel on
 * the tape of the current step; the caller (the trainer) runs the backward pass and frees
 * the step's activations. Shapes follow the legend of {@link ComputeBackend}. Every method
 * checks its arguments and throws {@link IllegalArgumentException} naming the operation and
 * the shapes.
 */
@ProviderType
public interface Ops {

    ComputeBackend backend();

    /** True while training (dropout active), false for evaluation and generation. */
    boolean training();

    /** The model parameter {@code name}, whose gradient the trainer collects under that name. */
    Var param(String name, Tensor value);

    /** A value no gradient flows into. */
    Var constant(Tensor value);

    /** {@code x W^T + b}: x (N, C) or (B, T, C), weight (OC, C), bias (OC) or null; result (..., OC). */
    Var linear(Var x, Var weight, Var bias);

    /** {@code x W^T} without a bias: for example a head tied to the token embedding. */
    default Var linear(Var x, Var weight) {
        return linear(x, weight, null);
    }

    /** {@code a + b}, {@code b} repeating over the leading dimensions of {@code a}. */
    Var add(Var a, Var b);

    /** GELU, tanh approximation. */
    Var gelu(Var x);

    /** LayerNorm over the last dimension. */
    Var layerNorm(Var x, Var weight, Var bias, float eps);

    /** Causal self-attention over qkv (B, T, 3C) with {@code nHead} heads; result (B, T, C). */
    Var causalSelfAttention(Var qkv, int nHead);

    /** Rows of {@code table} (V, C) picked by {@code ids} (I32, any shape S); result (S..., C). */
    Var embedding(Var table, Tensor ids);

    /** Inverted dropout with probability {@code p} while training; the identity otherwise. */
    Var dropout(Var x, float p);

    /** {@code alpha * x}. */
    Var scale(Var x, float alpha);

    /**
     * Weighted sum over time: x (B, T, C) and constant weights (F32, (B, T)) to (B, C),
     * {@code out[b] = sum_t weights[b, t] * x[b, t]}. Pooling a sequence into one vector is
     * this op: mean pooling has weights 1/len over a row's tokens, last-token pooling a single
     * 1 at its last token.
     */
    Var pool(Var x, Tensor weights);

    /** The same values seen with another shape of the same size (no copy). */
    Var reshape(Var x, Shape shape);

    /**
     * Mean softmax cross-entropy of logits (..., V) against targets (I32, the leading shape),
     * over the targets that are not negative; a scalar of shape (1).
     */
    Var crossEntropy(Var logits, Tensor targets);
}
