package dev.cornerstone.optim.sgd;

import java.util.List;
import java.util.Map;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.config.Settings;
import dev.cornerstone.core.optim.PerParameterOptimizer;

/**
 * Stochastic gradient descent with momentum (Polyak 1964) and optionally Nesterov's variant
 * (Sutskever et al. 2013), in PyTorch's formulation, with L2 weight decay. One fused backend
 * kernel per parameter. State: {@code <param>.momentum_buffer}, as PyTorch names it.
 */
public final class Sgd extends PerParameterOptimizer {

    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;

    public Sgd(ComputeBackend backend, float momentum, boolean nesterov, float weightDecay) {
        super(backend, "sgd", List.of("momentum_buffer"));
        if (nesterov && momentum <= 0) {
            throw new IllegalArgumentException("optimizer.nesterov needs optimizer.momentum > 0");
        }
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    /** From the spec's {@code optimizer} section: {@code momentum} 0, {@code nesterov} false, {@code weight_decay} 0. */
    public static Sgd from(ComputeBackend backend, Map<String, Object> section) {
        Settings s = new Settings("optimizer", section);
        double momentum = s.number("momentum", 0.0, 0.0, 0.999999);
        boolean nesterov = s.bool("nesterov", false);
        double wd = s.number("weight_decay", 0.0, 0.0, 10.0);
        s.finish();
        return new Sgd(backend, (float) momentum, nesterov, (float) wd);
    }

    @Override
    protected void update(String paramName, Tensor param, Tensor grad, List<Tensor> slots, float lr, int step) {
        backend.sgdStep(param, grad, slots.get(0), lr, momentum, nesterov, weightDecay, step == 1);
    }
}
