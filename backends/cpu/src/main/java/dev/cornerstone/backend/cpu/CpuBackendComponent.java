package dev.cornerstone.backend.cpu;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.cornerstone.api.backend.ComputeBackend;

/**
 * The cpu backend as a Declarative Services component: a {@link ComputeBackend} service with
 * {@code backend.name=cpu}, configured by the pid {@value #PID}. A configuration change
 * deactivates the component (its threads stop) and activates a new one. The service carries
 * {@code cornerstone.config.pid}, and once configured the configuration's properties (File
 * Install's {@code felix.fileinstall.filename} among them), so the launcher can tell whether the
 * backend runs with the file in {@code deploy/} yet.
 */
@Component(service = ComputeBackend.class, property = {"backend.name=" + CpuBackend.NAME,
        "cornerstone.config.pid=" + CpuBackendComponent.PID}, configurationPid = CpuBackendComponent.PID)
public final class CpuBackendComponent extends CpuBackend {

    public static final String PID = "dev.cornerstone.backend.cpu";

    /** Configuration of {@value #PID}. */
    @interface Config {

        /** Threads for the kernels and for OpenBLAS; 0 (default) or less: the available processors. */
        int threads() default 0;

        /** Use the pure-Java GEMM even when a native BLAS is installed. */
        boolean javaGemm() default false;
    }

    @Activate
    public CpuBackendComponent(Config config) {
        super(threadsOf(config), config.javaGemm());
    }

    static int threadsOf(Config config) {
        return config.threads() > 0 ? config.threads() : Runtime.getRuntime().availableProcessors();
    }

    @Deactivate
    void deactivate() {
        close();
    }
}
