package dev.cornerstone.optim.sgd;

import java.util.Map;

import org.osgi.service.component.annotations.Component;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.optim.OptimizerProvider;

/** SGD as a service: {@code optimizer.name=sgd}. */
@Component(service = OptimizerProvider.class, property = "optimizer.name=sgd")
public final class SgdProvider implements OptimizerProvider {

    @Override
    public String name() {
        return "sgd";
    }

    @Override
    public Optimizer create(ComputeBackend backend, Map<String, Object> config) {
        return Sgd.from(backend, config);
    }
}
