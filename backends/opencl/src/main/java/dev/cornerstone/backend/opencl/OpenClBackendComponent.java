package dev.cornerstone.backend.opencl;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.cornerstone.api.backend.ComputeBackend;

/**
 * The opencl backend as a Declarative Services component: a {@link ComputeBackend} service with
 * {@code backend.name=opencl}, configured by the pid {@value #PID}. A configuration change
 * deactivates the component (its device context is released) and activates a new one. When no
 * device matches, activation fails with a {@link DeviceNotFoundException} that lists every device
 * found, and no backend is offered.
 */
@Component(service = ComputeBackend.class, property = "backend.name=" + OpenClBackend.NAME,
        configurationPid = OpenClBackendComponent.PID)
public final class OpenClBackendComponent extends OpenClBackend {

    public static final String PID = "dev.cornerstone.backend.opencl";

    /** Configuration of {@value #PID}. */
    @interface Config {

        /** A part of the platform's name to match, case-insensitive; empty (default): any platform. */
        String platform() default "";

        /** A part of the device's name to match, case-insensitive; empty (default): any device. */
        String device() default "";

        /** {@code all} (default: a GPU or accelerator first, else a CPU device), {@code gpu}, {@code cpu} or {@code accelerator}. */
        String deviceType() default "all";

        /** Device memory the backend may hold, MiB; 0 (default): the device's global memory. */
        long memoryLimitMiB() default 0;

        /** Extra options for every OpenCL C build, for example {@code -cl-mad-enable}. */
        String buildOptions() default "";
    }

    @Activate
    public OpenClBackendComponent(Config config) {
        super(optionsOf(config));
    }

    static Options optionsOf(Config config) {
        return new Options(new DeviceSelector(config.platform(), config.device(), config.deviceType()),
                Math.multiplyExact(config.memoryLimitMiB(), 1L << 20), config.buildOptions());
    }

    @Deactivate
    void deactivate() {
        close();
    }
}
