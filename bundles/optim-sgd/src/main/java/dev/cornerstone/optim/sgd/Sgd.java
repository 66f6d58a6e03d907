package dev.cornerstone.optim.sgd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.config.Settings;

/**
 * Stochastic gradient descent with momentum (Polyak 1964) and optionally Nesterov's variant
 * (Sutskever et al. 2013), in PyTorch's formulation, with L2 weight decay. One fused backend
 * kernel per parameter. State: {@code <param>.momentum_buffer}, as PyTorch names it.
 */
public final class Sgd implements Optimizer {

    private final ComputeBackend be;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private final SequencedMap<String, Tensor> state = new LinkedHashMap<>();
    private int steps;

    public Sgd(ComputeBackend backend, float momentum, boolean nesterov, float weightDecay) {
        if (nesterov && momentum <= 0) {
            throw new IllegalArgumentException("optimizer.nesterov needs optimizer.momentum > 0");
        }
        this.be = backend;
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
    public void step(SequencedMap<String, Tensor> params, SequencedMap<String, Tensor> grads, float lr) {
        boolean first = steps == 0;
        steps++;
        state(params);
        for (Map.Entry<String, Tensor> e : grads.entrySet()) {
            Tensor param = params.get(e.getKey());
            if (param == null) {
                throw new IllegalArgumentException("sgd: gradient for unknown parameter " + e.getKey());
            }
            be.sgdStep(param, e.getValue(), state.get(e.getKey() + ".momentum_buffer"), lr, momentum, nesterov,
                    weightDecay, first);
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
            state.computeIfAbsent(e.getKey() + ".momentum_buffer",
                    k -> be.allocate(e.getValue().shape(), e.getValue().dtype()));
        }
        return state;
    }

    @Override
    public void close() {
        state.values().forEach(Tensor::close);
        state.clear();
    }
}
