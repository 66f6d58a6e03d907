package dev.cornerstone.finetune;

import java.util.LinkedHashMap;
import java.util.SequencedMap;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.model.HiddenStates;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.nn.Linear;
import dev.cornerstone.core.nn.ParamSet;

/**
 * A sequence classifier on a language model (Radford et al. 2018, "Improving Language
 * Understanding by Generative Pre-Training", section 3.2: a linear head on the transformer's
 * last hidden state):
 *
 * <pre>
 * h      = model.hiddenStates(ids)          (B, T, C)   through the adapter's ops, if there is one
 * pooled = pool(h, weights)                  (B, C)      last token, or mean over the text's tokens
 * logits = pooled W^T + b                    (B, K)      classifier.weight (K, C), classifier.bias (K)
 * </pre>
 *
 * It owns the model, the adapter and the head, and closes them.
 */
final class Classifier implements AutoCloseable {

    static final String HEAD = "classifier";

    private final Model model;
    private final HiddenStates encoder;
    private final Adapter adapter;
    private final ParamSet head;
    private final Linear linear;

    /** The head is drawn N(0, 0.02²) (bias zero) from {@code seed}. */
    Classifier(ComputeBackend backend, Model model, Adapter adapter, int classes, long seed) {
        if (!(model instanceof HiddenStates hs)) {
            throw new IllegalArgumentException("model.name " + model.config().get("name") + " does not expose its "
                    + "hidden states (" + HiddenStates.class.getName() + "), so it cannot carry a classifier");
        }
        this.model = model;
        this.encoder = hs;
        this.adapter = adapter;
        this.head = new ParamSet(backend, seed);
        this.linear = new Linear(HEAD, hs.hiddenSize(), classes, true).init(head, 0.02f);
        for (String name : head.view().keySet()) {
            if (model.parameters().containsKey(name) || (adapter != null && adapter.parameters().containsKey(name))) {
                throw new IllegalArgumentException("the model already has a parameter named " + name);
            }
        }
    }

    Model model() {
        return model;
    }

    Adapter adapter() {
        return adapter;
    }

    /** classifier.weight and classifier.bias. */
    SequencedMap<String, Tensor> head() {
        return head.view();
    }

    int classes() {
        return head.get(HEAD + ".bias").shape().dim(0);
    }

    /** Every parameter: the model's, the adapter's and the head's. */
    SequencedMap<String, Tensor> parameters() {
        SequencedMap<String, Tensor> all = new LinkedHashMap<>(model.parameters());
        if (adapter != null) {
            all.putAll(adapter.parameters());
        }
        all.putAll(head.view());
        return all;
    }

    /** ids I32 (B, T), pooling weights F32 (B, T) to logits (B, K). */
    Var logits(Graph g, Tensor ids, Tensor weights) {
        Ops ops = adapter == null ? g : adapter.apply(g);
        Var h = encoder.hiddenStates(ops, ids);     // (B, T, C)
        Var pooled = g.pool(h, weights);            // (B, C)
        return linear.forward(g, head, pooled);     // (B, K)
    }

    @Override
    public void close() {
        head.close();
        if (adapter != null) {
            adapter.close();
        }
        model.close();
    }
}
