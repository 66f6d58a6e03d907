package dev.cornerstone.core.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.cornerstone.backend.cpu.CpuBackend;

/**
 * A named provider the framework already lists but Declarative Services has not bound yet (the
 * launcher saw the backend registered and called at once): the job service waits for the bind,
 * up to {@link JobService#BIND_WAIT_MILLIS}, instead of failing with "no backend named".
 */
class JobServiceBindTest {

    @Test
    void aBackendBoundWhileTheCallWaitsIsFound() throws Exception {
        JobService jobs = new JobService();
        try (CpuBackend late = new CpuBackend(1)) {
            CompletableFuture<Throwable> call = CompletableFuture.supplyAsync(() -> {
                try {
                    jobs.apply(Map.of("command", "move", "id", "j1", "backend", "late"));
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            Thread.sleep(200);
            assertThat(call).isNotDone();
            jobs.addBackend(late, Map.of("backend.name", "late"));
            // past the backend: the next thing missing is the job
            assertThat(call.get(10, TimeUnit.SECONDS)).hasMessageContaining("no job 'j1' on this node")
                    .hasMessageNotContaining("backend");
        }
    }

    @Test
    void aBackendNeverBoundFailsAfterTheWaitNamingWhatIsThere() {
        JobService jobs = new JobService();
        try (CpuBackend cpu = new CpuBackend(1)) {
            jobs.addBackend(cpu, Map.of("backend.name", "cpu"));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> jobs.apply(Map.of("command", "move", "id", "j1", "backend", "nope")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("backend.name: no backend named 'nope' is registered (available: cpu)");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
                    .isGreaterThanOrEqualTo(JobService.BIND_WAIT_MILLIS);
        }
    }
}
