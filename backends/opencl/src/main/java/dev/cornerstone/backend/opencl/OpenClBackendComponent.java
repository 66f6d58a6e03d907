package dev.cornerstone.backend.opencl;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.cornerstone.api.backend.ComputeBackend;

/**
 * The opencl backend as a Declarative Services component, configured by the pid {@value #PID}:
 * when it activates it opens the configured device and registers the {@link OpenClBackend} as a
 * {@link ComputeBackend} service with {@code backend.name=opencl} (plus {@code backend.device} and
 * {@code backend.accelerated}); when it deactivates (the bundle stops, or the configuration
 * changes) it unregisters the service and closes the backend.
 *
 * <p>It registers the service itself rather than letting DS provide one, so that a machine
 * without a usable OpenCL device gets one clear warning naming what was found and what to
 * install or configure, and no backend (only a marker, {@value #UNAVAILABLE}, carrying that
 * reason), instead of a service whose every use fails with a stack trace from the DS runtime (a
 * DS-provided service is created when first used, and creation is retried by every user).
 */
@Component(configurationPid = OpenClBackendComponent.PID, immediate = true)
public final class OpenClBackendComponent {

    public static final String PID = "dev.cornerstone.backend.opencl";

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.backend.opencl");

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

    /**
     * Property of the marker service registered instead of the backend when no device matches
     * (objectClass {@code java.lang.Object}, with the reason in {@value #REASON}): the launcher waits
     * for a backend bundle's service or this marker, and {@code cornerstone backends} prints it.
     */
    static final String UNAVAILABLE = "cornerstone.backend.unavailable";
    static final String REASON = "cornerstone.backend.reason";

    private final OpenClBackend backend;
    private final ServiceRegistration<?> registration;

    @Activate
    public OpenClBackendComponent(BundleContext context, Config config, java.util.Map<String, Object> componentProperties) {
        OpenClBackend opened = null;
        String reason = null;
        try {
            opened = new OpenClBackend(optionsOf(config));
        } catch (DeviceNotFoundException e) {
            reason = e.getMessage();
            LOG.warning("the opencl backend is not offered: " + reason);
        }
        this.backend = opened;
        Dictionary<String, Object> props = opened != null ? properties(opened) : unavailable(reason);
        configuredBy(props, componentProperties);
        this.registration = opened != null ? context.registerService(ComputeBackend.class, opened, props)
                : context.registerService(Object.class.getName(), new Object(), props);
    }

    /** The backend the configuration asks for, or null (with one warning) when no device matches. */
    static OpenClBackend open(Config config) {
        try {
            return new OpenClBackend(optionsOf(config));
        } catch (DeviceNotFoundException e) {
            LOG.warning("the opencl backend is not offered: " + e.getMessage());
            return null;
        }
    }

    static Dictionary<String, Object> unavailable(String reason) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(UNAVAILABLE, OpenClBackend.NAME);
        p.put(REASON, reason);
        return p;
    }

    /** Property naming the configuration pid; with File Install's file name, when configured from deploy/. */
    static final String CONFIG_PID = "cornerstone.config.pid";
    static final String CONFIG_FILE = "felix.fileinstall.filename";

    /**
     * Marks the registration with {@value #CONFIG_PID} and, when the configuration came from a file,
     * that file ({@value #CONFIG_FILE}): the launcher waits for a backend that runs with the file in
     * {@code deploy/}, not one activated with the defaults before the file was read.
     */
    static void configuredBy(Dictionary<String, Object> props, java.util.Map<String, Object> componentProperties) {
        props.put(CONFIG_PID, PID);
        Object file = componentProperties == null ? null : componentProperties.get(CONFIG_FILE);
        if (file != null) {
            props.put(CONFIG_FILE, file);
        }
    }

    static OpenClBackend.Options optionsOf(Config config) {
        return new OpenClBackend.Options(new DeviceSelector(config.platform(), config.device(), config.deviceType()),
                Math.multiplyExact(config.memoryLimitMiB(), 1L << 20), config.buildOptions());
    }

    static Dictionary<String, Object> properties(OpenClBackend backend) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("backend.name", OpenClBackend.NAME);
        p.put("backend.device", backend.device());
        p.put("backend.accelerated", backend.accelerated());
        return p;
    }

    /** The backend this component offers, or null when no device matched. */
    OpenClBackend backend() {
        return backend;
    }

    @Deactivate
    void deactivate() {
        registration.unregister();
        if (backend != null) {
            backend.close();
        }
    }
}
