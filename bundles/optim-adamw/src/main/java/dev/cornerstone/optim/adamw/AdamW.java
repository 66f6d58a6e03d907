package dev.cornerstone.optim.adamw;

import java.util.List;
import java.util.Map;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.config.Settings;
import dev.cornerstone.core.optim.PerParameterOptimizer;

/**
 * AdamW (Loshchilov and Hutter 2019, "Decoupled Weight Decay Regularization"): Adam moments
 * with bias correction, and weight decay applied to the weights directly, only to tensors
 * of two or more dimensions (matrices and embeddings; not biases or LayerNorm gains), as
 * nanoGPT's configure_optimizers. One fused backend kernel per parameter.
 * State: {@code <param>.exp_avg} and {@code <param>.exp_avg_sq}, as PyTorch names them.
 */
public final class AdamW extends PerParameterOptimizer {

    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;

    public AdamW(ComputeBackend backend, float beta1, float beta2, float eps, float weightDecay) {
        super(backend, "adamw", List.of("exp_avg", "exp_avg_sq"));
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
    protected void update(String paramName, Tensor param, Tensor grad, List<Tensor> slots, float lr, int step) {
        float wd = param.shape().rank() >= 2 ? weightDecay : 0f;
        backend.adamwStep(param, grad, slots.get(0), slots.get(1), lr, beta1, beta2, eps, wd, step);
    }
}
