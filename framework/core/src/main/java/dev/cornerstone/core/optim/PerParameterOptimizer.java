package dev.cornerstone.core.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.Tensor;

/**
 * An optimizer that updates each parameter on its own with one fused backend kernel, from
 * state tensors shaped like the parameter ({@code <param>.<slot>}, zero at the start). A
 * subclass names its slots and writes {@link #update}.
 */
public abstract class PerParameterOptimizer implements Optimizer {

    protected final ComputeBackend backend;
    private final String name;
    private final List<String> slots;
    private final SequencedMap<String, Tensor> state = new LinkedHashMap<>();
    private int steps;

    protected PerParameterOptimizer(ComputeBackend backend, String name, List<String> slots) {
        this.backend = backend;
        this.name = name;
        this.slots = List.copyOf(slots);
    }

    /**
     * Updates {@code param} from {@code grad}; {@code slotTensors} holds this parameter's state
     * in the order of the slots; {@code step} is 1-based.
     */
    protected abstract void update(String paramName, Tensor param, Tensor grad, List<Tensor> slotTensors, float lr,
                                   int step);

    @Override
    public final void step(SequencedMap<String, Tensor> params, SequencedMap<String, Tensor> grads, float lr) {
        steps++;
        state(params);
        for (Map.Entry<String, Tensor> e : grads.entrySet()) {
            Tensor param = params.get(e.getKey());
            if (param == null) {
                throw new IllegalArgumentException(name + ": gradient for unknown parameter " + e.getKey());
            }
            List<Tensor> s = slots.stream().map(slot -> state.get(e.getKey() + "." + slot)).toList();
            update(e.getKey(), param, e.getValue(), s, lr, steps);
        }
    }

    @Override
    public final int stepCount() {
        return steps;
    }

    @Override
    public final void setStepCount(int steps) {
        this.steps = steps;
    }

    @Override
    public final SequencedMap<String, Tensor> state(SequencedMap<String, Tensor> params) {
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            for (String slot : slots) {
                state.computeIfAbsent(e.getKey() + "." + slot,
                        k -> backend.allocate(e.getValue().shape(), e.getValue().dtype()));
            }
        }
        return state;
    }

    @Override
    public final void close() {
        state.values().forEach(Tensor::close);
        state.clear();
    }
}
