package dev.cornerstone.finetune;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.model.AdapterProvider;
import dev.cornerstone.api.model.ModelProvider;
import dev.cornerstone.api.optim.OptimizerProvider;

/**
 * The services a fine-tuning job uses, by their name property ({@code backend.name},
 * {@code model.name}, {@code optimizer.name}, {@code dataset.name}, {@code adapter.name}). A
 * name that is not registered is an error listing the names that are.
 */
record Providers(Map<String, ComputeBackend> backends, Map<String, ModelProvider> models,
                 Map<String, OptimizerProvider> optimizers, Map<String, DatasetProvider> datasets,
                 Map<String, AdapterProvider> adapters) {

    /**
     * Backends in order of preference for {@code backend.name: auto}, by the job service's rule:
     * the first of them that is {@linkplain ComputeBackend#accelerated() accelerated}, else
     * {@code cpu}, else the first present (an OpenCL device on the CPU, such as PoCL, is slower
     * there than the cpu backend).
     */
    static final List<String> PREFERENCE = List.of("cuda", "opencl", "cpu");

    ComputeBackend backend(String name) {
        if ("auto".equals(name)) {
            for (String n : PREFERENCE) {
                ComputeBackend b = backends.get(n);
                if (b != null && b.accelerated()) {
                    return b;
                }
            }
            if (backends.containsKey("cpu")) {
                return backends.get("cpu");
            }
            for (String n : PREFERENCE) {
                if (backends.containsKey(n)) {
                    return backends.get(n);
                }
            }
        }
        return pick(backends, name, "backend.name");
    }

    ModelProvider model(String name) {
        return pick(models, name, "model.name");
    }

    OptimizerProvider optimizer(String name) {
        return pick(optimizers, name, "optimizer.name");
    }

    DatasetProvider dataset(String name) {
        return pick(datasets, name, "dataset.name");
    }

    AdapterProvider adapter(String name) {
        return pick(adapters, name, "adapter.name");
    }

    /**
     * How long a named service that is not bound yet is waited for: the framework lists a new
     * service before Declarative Services has bound it here, so a caller that saw it registered
     * (the launcher waits for the backend it names) may call in between.
     */
    static final long BIND_WAIT_MILLIS = 2_000;

    private static <T> T pick(Map<String, T> byName, String name, String property) {
        T t = byName.get(name);
        long deadline = System.nanoTime() + BIND_WAIT_MILLIS * 1_000_000L;
        while (t == null && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            t = byName.get(name);
        }
        if (t == null) {
            String kind = property.substring(0, property.indexOf('.'));
            throw new IllegalArgumentException(property + ": no " + kind + " named '" + name + "' is registered "
                    + "(available: " + (byName.isEmpty() ? "none" : String.join(", ", new TreeSet<>(byName.keySet())))
                    + ")" + ("adapter".equals(kind) ? "; is the bundle dev.cornerstone.lora in system/ or deploy/?" : ""));
        }
        return t;
    }
}
