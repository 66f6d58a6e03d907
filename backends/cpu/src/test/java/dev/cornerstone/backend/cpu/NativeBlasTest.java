package dev.cornerstone.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/** Finding a native BLAS, and saying so (once) when there is none. */
class NativeBlasTest {

    @Test
    void noNativeBlasMeansTheJavaGemmAndOneWarning() {
        Logger logger = Logger.getLogger("dev.cornerstone.backend.cpu");
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        NativeBlas.resetMissingWarning();
        List<String> nowhere = List.of("libno-such-blas.so.9", "/nonexistent/libopenblas.so.0");
        try (CpuBackend first = new CpuBackend(2, false, nowhere);
             CpuBackend second = new CpuBackend(2, false, nowhere)) {
            assertThat(first.nativeGemm()).isFalse();
            assertThat(first.device()).isEqualTo("CPU, 2 threads, pure-Java GEMM (no native BLAS found)");
            assertThat(second.device()).isEqualTo(first.device());
            // and it multiplies
            try (Tensor a = first.allocate(Shape.of(2, 2), DType.F32);
                 Tensor c = first.allocate(Shape.of(2, 2), DType.F32)) {
                first.write(a, 0, new float[] {1, 2, 3, 4}, 0, 4);
                first.gemm(false, false, 1, 2, 2, 2, 1f, a, 0, 0, a, 0, 0, 0f, c, 0, 0);
                float[] out = new float[4];
                first.read(c, 0, out, 0, 4);
                assertThat(out).containsExactly(7, 10, 15, 22);
            }
        } finally {
            logger.removeHandler(capture);
        }
        List<LogRecord> warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING).toList();
        assertThat(warnings).hasSize(1);
        assertThat(warnings.getFirst().getMessage())
                .contains("No native BLAS").contains("libno-such-blas.so.9 (not loadable)")
                .contains("/nonexistent/libopenblas.so.0 (no such file)").contains("pure-Java");
    }

    @Test
    void theSystemBlasWhenInstalledIsDescribed() {
        NativeBlas.system().ifPresent(blas -> {
            assertThat(blas.description()).isNotBlank();
            try (CpuBackend cpu = new CpuBackend(2)) {
                assertThat(cpu.nativeGemm()).isTrue();
                assertThat(cpu.device()).isEqualTo("CPU, 2 threads, " + blas.description());
            }
        });
    }

    @Test
    void coreTypeFollowsTheCpuFlags() {
        assertThat(NativeBlas.coreFromCpuFlags(Set.of("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16",
                "avx2", "fma"))).isEqualTo("Cooperlake");
        assertThat(NativeBlas.coreFromCpuFlags(Set.of("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma")))
                .isEqualTo("SkylakeX");
        assertThat(NativeBlas.coreFromCpuFlags(Set.of("avx2", "fma", "sse4_2"))).isEqualTo("Haswell");
        assertThat(NativeBlas.coreFromCpuFlags(Set.of("sse4_2", "avx"))).isNull();
        assertThat(NativeBlas.coreFromCpuFlags(Set.of())).isNull();
    }
}
