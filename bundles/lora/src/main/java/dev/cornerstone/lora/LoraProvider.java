package dev.cornerstone.lora;

import java.util.Map;
import java.util.SequencedMap;

import org.osgi.service.component.annotations.Component;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Adapter;
import dev.cornerstone.api.model.AdapterProvider;
import dev.cornerstone.api.tensor.Tensor;

/** LoRA as a service: {@code adapter.name=lora}; its settings are the spec's {@code lora} section ({@link LoraConfig}). */
@Component(service = AdapterProvider.class, property = "adapter.name=" + LoraProvider.NAME)
public final class LoraProvider implements AdapterProvider {

    public static final String NAME = "lora";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Adapter create(ComputeBackend backend, SequencedMap<String, Tensor> modelParameters,
                          Map<String, Object> config, long seed) {
        return new LoraAdapter(backend, modelParameters, LoraConfig.from(config), seed);
    }
}
