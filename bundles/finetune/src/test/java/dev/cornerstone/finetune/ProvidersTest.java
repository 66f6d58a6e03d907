package dev.cornerstone.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * {@code backend.name: auto} picks as the job service does: an accelerated backend first, else
 * {@code cpu}; an OpenCL device on the CPU (PoCL) is not taken over the cpu backend.
 */
class ProvidersTest {

    /** A backend that says it computes on an accelerator (a GPU's, say). */
    static final class Accelerated extends CpuBackend {
        Accelerated() {
            super(1);
        }

        @Override
        public boolean accelerated() {
            return true;
        }
    }

    static Providers with(Map<String, ComputeBackend> backends) {
        return new Providers(backends, Map.of(), Map.of(), Map.of(), Map.of());
    }

    @Test
    void autoTakesAnAcceleratedBackendElseCpuElseWhatThereIs() {
        try (CpuBackend cpu = new CpuBackend(1); CpuBackend onCpu = new CpuBackend(1); Accelerated gpu = new Accelerated()) {
            assertThat(with(Map.of("opencl", onCpu, "cpu", cpu)).backend("auto"))
                    .as("OpenCL on the CPU is not preferred to the cpu backend").isSameAs(cpu);
            assertThat(with(Map.of("opencl", gpu, "cpu", cpu)).backend("auto")).isSameAs(gpu);
            assertThat(with(Map.of("cuda", gpu, "opencl", onCpu, "cpu", cpu)).backend("auto")).isSameAs(gpu);
            assertThat(with(Map.of("opencl", onCpu)).backend("auto")).isSameAs(onCpu);
            assertThat(with(Map.of("opencl", onCpu, "cpu", cpu)).backend("opencl")).as("named: as named")
                    .isSameAs(onCpu);
            assertThatThrownBy(() -> with(Map.of("cpu", cpu)).backend("cuda"))
                    .hasMessageContaining("backend.name: no backend named 'cuda' is registered (available: cpu)");
        }
    }
}
