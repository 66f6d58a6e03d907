package dev.cornerstone.optim.adamw;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.config.Settings;

/**
 * AdamW (Loshchilov and Hutter 2019, "Decoupled Weight Decay Regularization"): Adam moments
 * with bias correction, and weight decay applied to the weights directly, only to tensors
 * of two or more dimensions (matrices and embeddings; not biases or LayerNorm gains), as
 * nanoGPT's configure_optimizers. One fused backend kernel per parameter.
 * State: {@code <param>.exp_avg} and {@code <param>.exp_avg_sq}, as PyTorch names them.
 */
public final class AdamW implements Optimizer {

    private final ComputeBackend be;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final SequencedMap<String, Tensor> state = new LinkedHashMap<>();
    private int steps;

    public AdamW(ComputeBackend backend, float beta1, float beta2, float eps, float weightDecay) {
        this.be = backend;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** From the spec's {@code optimizer} section: {@code betas} [0.9, 0.95], {@code eps} 1e-8, {@code weight_decay} 0.1. */
    public static AdamW from(ComputeBackend backend, Map<String, Object> section) {
        Settings s = new Settings("optimizer", section);
        double[] betas = s.numbers("betas", new double[] {0.9, 0.95}, 2, 0.0, 0.999999);
        double eps = s.number("eps", 1e-8, 0.0, 1.0);
        double wd = s.number("weight_decay", 0.1, 0.0, 10.0);
        s.finish();
        return new AdamW(backend, (float) betas[0], (float) betas[1], (float) eps, (float) wd);
    }

    @Override
    public void step(SequencedMap<String, Tensor> params, SequencedMap<String, Tensor> grads, float lr) {
        steps++;
        state(params);
        for (Map.Entry<String, Tensor> e : grads.entrySet()) {
            Tensor param = params.get(e.getKey());
            if (param == null) {
                throw new IllegalArgumentException("adamw: gradient for unknown parameter " + e.getKey());
            }
            float wd = param.shape().rank() >= 2 ? weightDecay : 0f;
            be.adamwStep(param, e.getValue(), state.get(e.getKey() + ".exp_avg"),
                    state.get(e.getKey() + ".exp_avg_sq"), lr, beta1, beta2, eps, wd, steps);
        }
    }

    @Override
    public int stepCount() {
        return steps;
    }

    @Override
    public void setStepCount(int steps) {
        this.steps = steps;
    }

    @Override
    public SequencedMap<String, Tensor> state(SequencedMap<String, Tensor> params) {
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            for (String slot : new String[] {".exp_avg", ".exp_avg_sq"}) {
                state.computeIfAbsent(e.getKey() + slot, k -> be.allocate(e.getValue().shape(), e.getValue().dtype()));
            }
        }
        return state;
    }

    @Override
    public void close() {
        state.values().forEach(Tensor::close);
        state.clear();
    }
}
