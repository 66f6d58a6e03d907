package dev.cornerstone.api.model;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A {@link Model} whose forward pass ends in a language-model head can also hand out what
 * comes before that head: one vector per token. A task head (a classifier, say) is built on
 * them; a model that does not implement this cannot be fine-tuned for such a task.
 */
@ConsumerType
public interface HiddenStates {

    /** Channels of a hidden state ({@code C}). */
    int hiddenSize();

    /**
     * The forward pass without its language-model head: token ids I32 (B, T) to hidden states
     * (B, T, C). For a causal model the state at position t depends on tokens 0..t only.
     */
    Var hiddenStates(Ops ops, Tensor ids);
}
