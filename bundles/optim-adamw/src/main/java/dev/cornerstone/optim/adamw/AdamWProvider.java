package dev.cornerstone.optim.adamw;

import java.util.Map;

import org.osgi.service.component.annotations.Component;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.optim.OptimizerProvider;

/** AdamW as a service: {@code optimizer.name=adamw}. */
@Component(service = OptimizerProvider.class, property = "optimizer.name=adamw")
public final class AdamWProvider implements OptimizerProvider {

    @Override
    public String name() {
        return "adamw";
    }

    @Override
    public Optimizer create(ComputeBackend backend, Map<String, Object> config) {
        return AdamW.from(backend, config);
    }
}
