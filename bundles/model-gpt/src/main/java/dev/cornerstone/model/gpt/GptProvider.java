package dev.cornerstone.model.gpt;

import java.util.Map;

import org.osgi.service.component.annotations.Component;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.model.ModelProvider;

/** The GPT family as a service: {@code model.name=gpt}. */
@Component(service = ModelProvider.class, property = "model.name=gpt")
public final class GptProvider implements ModelProvider {

    @Override
    public String name() {
        return "gpt";
    }

    @Override
    public Model create(ComputeBackend backend, Map<String, Object> config, long seed) {
        return new Gpt(backend, GptConfig.from(config), seed);
    }
}
