package dev.cornerstone.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.backend.Kernel;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The parity suite itself, run through the JUnit launcher on backends made to differ from the
 * reference: it must fail where a backend claims a kernel and gets it wrong, report a kernel the
 * backend declines as skipped with the backend's reason, and pass the reference itself. (A suite
 * that cannot fail would pass all three.)
 */
class BackendParitySuiteTest {

    /** How each test of a run ended: its method, its status, and the message of its failure or skip. */
    record Outcome(String method, TestExecutionResult.Status status, String message) {
    }

    static List<Outcome> run(Class<?> suite) {
        List<Outcome> outcomes = new ArrayList<>();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(suite)).build(),
                new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                        if (id.isTest()) {
                            String uid = id.getUniqueId();
                            String method = uid.replaceAll(".*\\[(?:test-template|method):([A-Za-z]+)\\(.*", "$1");
                            outcomes.add(new Outcome(method, result.getStatus(),
                                    result.getThrowable().map(Throwable::getMessage).orElse("")));
                        }
                    }
                });
        return outcomes;
    }

    static List<Outcome> of(List<Outcome> all, String method) {
        return all.stream().filter(o -> o.method().equals(method)).toList();
    }

    /** GELU off by 1e-3 at one element per call. */
    static final class WrongGeluBackend extends ReferenceBackend {
        @Override
        public void geluForward(Tensor x, Tensor out) {
            super.geluForward(x, out);
            float[] first = new float[1];
            read(out, 0, first, 0, 1);
            first[0] += 1e-3f;
            write(out, 0, first, 0, 1);
        }
    }

    /** Declines GELU, with a reason. */
    static final class NoGeluBackend extends ReferenceBackend {
        @Override
        public boolean supports(Kernel kernel) {
            return kernel != Kernel.GELU;
        }

        @Override
        public String unsupportedReason(Kernel kernel) {
            return kernel == Kernel.GELU ? "no GELU on this test device" : null;
        }
    }

    static final class WrongGeluParity extends BackendParitySuite {
        @Override
        protected ComputeBackend createBackend() {
            return new WrongGeluBackend();
        }
    }

    static final class NoGeluParity extends BackendParitySuite {
        @Override
        protected ComputeBackend createBackend() {
            return new NoGeluBackend();
        }
    }

    static final class ReferenceParity extends BackendParitySuite {
        @Override
        protected ComputeBackend createBackend() {
            return new ReferenceBackend();
        }
    }

    @Test
    void aKernelThatIsClaimedAndWrongFailsAndNothingElseDoes() {
        List<Outcome> all = run(WrongGeluParity.class);
        List<Outcome> gelu = of(all, "geluForwardAndBackward");
        assertThat(gelu).hasSize(BackendParitySuite.SIZES.length)
                .allSatisfy(o -> assertThat(o.status()).isEqualTo(TestExecutionResult.Status.FAILED))
                .allSatisfy(o -> assertThat(o.message()).contains("reference gelu forward"));
        assertThat(all).filteredOn(o -> !o.method().equals("geluForwardAndBackward")
                        && !o.method().equals("gptTrainingRunMatchesTheReferenceLossForLoss"))
                .isNotEmpty()
                .allSatisfy(o -> assertThat(o.status()).as(o.toString()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL));
    }

    @Test
    void aKernelTheBackendDeclinesIsSkippedWithItsReason() {
        List<Outcome> all = run(NoGeluParity.class);
        assertThat(of(all, "geluForwardAndBackward")).hasSize(BackendParitySuite.SIZES.length)
                .allSatisfy(o -> {
                    assertThat(o.status()).isEqualTo(TestExecutionResult.Status.ABORTED);
                    assertThat(o.message())
                            .isEqualTo("Assumption failed: reference does not support GELU: no GELU on this test device");
                });
        assertThat(of(all, "gptTrainingRunMatchesTheReferenceLossForLoss")).singleElement()
                .satisfies(o -> {
                    assertThat(o.status()).isEqualTo(TestExecutionResult.Status.ABORTED);
                    assertThat(o.message()).contains("GELU: no GELU on this test device");
                });
        assertThat(of(all, "everyKernelIsDeclaredWithAReasonWhenUnsupported")).singleElement()
                .satisfies(o -> assertThat(o.status()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL));
    }

    @Test
    void theReferenceAgainstItselfPassesEverything() {
        List<Outcome> all = run(ReferenceParity.class);
        assertThat(all).hasSizeGreaterThan(150)
                .allSatisfy(o -> assertThat(o.status()).as(o.toString()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL));
    }
}
