package dev.cornerstone.api.model;

import java.util.Map;
import java.util.SequencedMap;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A model on one backend: its parameters, named as their checkpoint keys, and its forward
 * pass written with {@link Ops}. Closing it frees its parameters.
 */
@ConsumerType
public interface Model extends AutoCloseable {

    /** Parameters in a stable order, keyed by checkpoint name (for GPT-2: {@code h.0.attn.c_attn.weight}). */
    SequencedMap<String, Tensor> parameters();

    /** The resolved configuration (every key with its value), as it is stored with a run. */
    Map<String, Object> config();

    /** Longest sequence the model takes. */
    int blockSize();

    /** Forward pass: token ids I32 (B, T) to logits (B, T, V). */
    Var forward(Ops ops, Tensor ids);

    @Override
    void close();
}
