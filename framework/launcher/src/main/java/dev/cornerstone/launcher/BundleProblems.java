package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.resource.Namespace;

/**
 * Why a bundle is not running, in words an operator can act on. Start failures are
 * recorded with the framework's message (an unresolved requirement, an activator that
 * threw); for a bundle that is merely installed, the missing requirements are worked out
 * from the framework's wiring without side effects. Files in {@code deploy/} that could not
 * be installed at all (not a jar, no manifest) are kept by file name.
 */
public final class BundleProblems implements FrameworkListener, BundleListener {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.container");

    private final BundleContext ctx;
    private final Map<Long, String> byBundle = new ConcurrentHashMap<>();
    private final Map<Path, String> rejectedFiles = new ConcurrentHashMap<>();

    BundleProblems(BundleContext ctx) {
        this.ctx = ctx;
    }

    static boolean isFragment(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        return rev != null && (rev.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    /** Records and logs a failed start. */
    void startFailed(Bundle b, Exception e) {
        String msg = describe(e);
        byBundle.put(b.getBundleId(), msg);
        LOG.log(Level.SEVERE, "Bundle " + b.getSymbolicName() + " " + b.getVersion() + " [" + b.getBundleId()
                + "] from " + b.getLocation() + " failed to start: " + msg, e);
    }

    void rejectFile(Path file, String reason) {
        rejectedFiles.put(file, reason);
    }

    void acceptFile(Path file) {
        rejectedFiles.remove(file);
    }

    /** Files that are not bundles, by path, with the reason. */
    public Map<Path, String> rejectedFiles() {
        return Map.copyOf(rejectedFiles);
    }

    /** The problem of a bundle, or null when it is in the state it should be in. */
    public String problemOf(Bundle b) {
        int state = b.getState();
        if (state == Bundle.ACTIVE || state == Bundle.STARTING || state == Bundle.STOPPING) {
            return null;
        }
        boolean fragment = isFragment(b);
        if (fragment && state == Bundle.RESOLVED) {
            return null;
        }
        String recorded = byBundle.get(b.getBundleId());
        if (recorded != null) {
            return recorded;
        }
        if (state == Bundle.INSTALLED) {
            List<String> missing = missingRequirements(b);
            return missing.isEmpty()
                    ? "not resolved"
                    : "unresolved requirement" + (missing.size() > 1 ? "s: " : ": ") + String.join("; ", missing);
        }
        return fragment ? null : "not started";
    }

    /** Mandatory requirements of a bundle that no installed bundle provides. */
    List<String> missingRequirements(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        FrameworkWiring wiring = ctx.getBundle(0).adapt(FrameworkWiring.class);
        List<String> missing = new ArrayList<>();
        if (rev == null || wiring == null) {
            return missing;
        }
        for (BundleRequirement req : rev.getDeclaredRequirements(null)) {
            String resolution = req.getDirectives().get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE);
            if (Namespace.RESOLUTION_OPTIONAL.equals(resolution)) {
                continue;
            }
            String effective = req.getDirectives().get(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE);
            if (effective != null && !Namespace.EFFECTIVE_RESOLVE.equals(effective)) {
                continue;
            }
            Collection<?> providers = wiring.findProviders(req);
            if (providers.isEmpty()) {
                missing.add(req.getNamespace() + " " + req.getDirectives().getOrDefault(
                        Namespace.REQUIREMENT_FILTER_DIRECTIVE, ""));
            }
        }
        return missing;
    }

    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable cause = e.getCause();
        while (cause != null && cause != e) {
            sb.append(" Caused by ").append(cause.getClass().getName());
            if (cause.getMessage() != null) {
                sb.append(": ").append(cause.getMessage());
            }
            e = cause;
            cause = cause.getCause();
        }
        return sb.toString().replaceAll("\\s+", " ").trim();
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.ERROR && event.getBundle() != null && event.getThrowable() != null) {
            Bundle b = event.getBundle();
            if (b.getBundleId() != 0) {
                byBundle.put(b.getBundleId(), describe(event.getThrowable()));
            }
            LOG.log(Level.SEVERE, "Framework error in bundle " + b.getSymbolicName() + " [" + b.getBundleId() + "]: "
                    + describe(event.getThrowable()), event.getThrowable());
        } else if (event.getType() == FrameworkEvent.ERROR) {
            LOG.log(Level.SEVERE, "Framework error", event.getThrowable());
        }
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        long id = event.getBundle().getBundleId();
        switch (event.getType()) {
            case BundleEvent.STARTED, BundleEvent.UNINSTALLED, BundleEvent.UPDATED -> byBundle.remove(id);
            default -> { }
        }
    }

    /** For tests and the API: whether a start failure was recorded as a {@link BundleException}. */
    boolean hasRecordedProblem(Bundle b) {
        return byBundle.containsKey(b.getBundleId());
    }
}
