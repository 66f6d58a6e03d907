package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/**
 * A bundle as the API and {@code bundles list} show it.
 *
 * @param id           framework bundle id, -1 for a file that never became a bundle
 * @param symbolicName Bundle-SymbolicName
 * @param version      Bundle-Version
 * @param state        ACTIVE, RESOLVED, INSTALLED, STARTING, STOPPING, or REJECTED for a file
 *                     that is not a bundle, or STOPPED when listed from a distribution
 *                     with no node running
 * @param fragment     true for a fragment (healthy when RESOLVED)
 * @param source       system, deploy or other (installed by some other means)
 * @param file         the jar's file name, when it came from system/ or deploy/
 * @param problem      why it is not in the state it should be, or null
 * @param services     object classes of the services it registered
 */
public record BundleView(long id, String symbolicName, String version, String state, boolean fragment,
                         String source, String file, String problem, List<Map<String, Object>> services) {

    static BundleView of(Bundle b, Home home, BundleProblems problems) {
        String source = "other";
        String file = null;
        Path deployed = DeployedBundles.deployedFile(b, home.deployDir());
        Path system = DeployedBundles.deployedFile(b, home.systemDir());
        if (b.getBundleId() == 0) {
            source = "system";
        } else if (deployed != null) {
            source = "deploy";
            file = deployed.getFileName().toString();
        } else if (system != null) {
            source = "system";
            file = system.getFileName().toString();
        }
        List<Map<String, Object>> services = new ArrayList<>();
        ServiceReference<?>[] refs = b.getState() == Bundle.UNINSTALLED ? null : b.getRegisteredServices();
        if (refs != null) {
            for (ServiceReference<?> ref : refs) {
                services.add(service(ref));
            }
        }
        return new BundleView(b.getBundleId(), b.getSymbolicName(), b.getVersion().toString(), stateName(b.getState()),
                BundleProblems.isFragment(b), source, file, problems.problemOf(b), services);
    }

    static Map<String, Object> service(ServiceReference<?> ref) {
        Map<String, Object> m = new TreeMap<>();
        for (String key : ref.getPropertyKeys()) {
            Object v = ref.getProperty(key);
            if (v instanceof String[] arr) {
                m.put(key, List.of(arr));
            } else if (v instanceof String || v instanceof Number || v instanceof Boolean) {
                m.put(key, v);
            } else if (v != null) {
                m.put(key, String.valueOf(v));
            }
        }
        Bundle owner = ref.getBundle();
        if (owner != null) {
            m.put("bundle", owner.getSymbolicName());
            m.put("bundle.id", owner.getBundleId());
            m.put("bundle.version", owner.getVersion().toString());
        }
        m.putIfAbsent(Constants.OBJECTCLASS, List.of());
        return m;
    }

    static BundleView rejected(Path file, String reason) {
        return new BundleView(-1, null, null, "REJECTED", false, "deploy", file.getFileName().toString(), reason,
                List.of());
    }

    static BundleView stopped(BundleFile bf, String source) {
        return new BundleView(-1, bf.symbolicName(), bf.version(), bf.ok() ? "STOPPED" : "REJECTED",
                bf.fragmentHost() != null, source, bf.file().getFileName().toString(), bf.error(), List.of());
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNKNOWN(" + state + ")";
        };
    }

    /** True when the bundle is where it should be: active, or a resolved fragment. */
    public boolean healthy() {
        return problem == null && ("ACTIVE".equals(state) || (fragment && "RESOLVED".equals(state)));
    }
}
