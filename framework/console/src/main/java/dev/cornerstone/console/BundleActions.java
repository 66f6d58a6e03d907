package dev.cornerstone.console;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * What the console does to bundles. Deploying and undeploying go through the node service
 * (the jar is checked, then written into {@code deploy/}, where File Install picks it up), so
 * a bundle deployed from the browser is still there after a restart. Start, stop and update
 * act on the framework directly; a failed one is recorded with the framework's message and
 * shown as the bundle's problem until the bundle starts, is updated or goes away. Every
 * method blocks: call it on a worker thread.
 */
final class BundleActions {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");

    private final BundleContext ctx;
    private final NodeServices services;
    private final Map<Long, String> failures = new ConcurrentHashMap<>();

    BundleActions(BundleContext ctx, NodeServices services) {
        this.ctx = ctx;
        this.services = services;
    }

    /** Clears a recorded failure when the bundle starts, is updated or uninstalled. */
    void bundleChanged(BundleEvent e) {
        switch (e.getType()) {
            case BundleEvent.STARTED, BundleEvent.UPDATED, BundleEvent.UNINSTALLED ->
                    failures.remove(e.getBundle().getBundleId());
            default -> { }
        }
    }

    /** Every bundle as the node API lists it, with the failures of actions taken here. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : (List<Object>) services.call("node", Map.of("command", "bundles")).get("bundles")) {
            Map<String, Object> b = new LinkedHashMap<>((Map<String, Object>) o);
            if (b.get("id") instanceof Number id) {
                String failure = failures.get(id.longValue());
                if (failure != null && !"ACTIVE".equals(b.get("state"))) {
                    b.put("problem", failure);
                }
                b.put("self", id.longValue() == ctx.getBundle().getBundleId());
                Bundle bundle = id.longValue() >= 0 ? ctx.getBundle(id.longValue()) : null;
                b.put("console_uses", bundle != null && consoleNeeds(bundle));
            }
            out.add(b);
        }
        return out;
    }

    Map<String, Object> view(long id) {
        for (Map<String, Object> b : list()) {
            if (b.get("id") instanceof Number n && n.longValue() == id) {
                return b;
            }
        }
        throw new ApiError(404, "no bundle " + id + " on this node");
    }

    private Bundle bundle(long id) {
        Bundle b = ctx.getBundle(id);
        if (b == null) {
            throw new ApiError(404, "no bundle " + id + " on this node");
        }
        return b;
    }

    /**
     * Refuses to take down the framework, the console the request came through, or a bundle
     * the console is wired to (Vert.x, Declarative Services, ...): stopping, updating or
     * removing one of those would end the console in the middle of the answer. The node API
     * and the command line can still do it.
     */
    private void guard(Bundle b, String action) {
        if (b.getBundleId() == 0) {
            throw new ApiError(409, "bundle 0 is the OSGi framework itself: stop the node instead");
        }
        if (b.getBundleId() == ctx.getBundle().getBundleId()) {
            throw new ApiError(409, "cannot " + action + " " + b.getSymbolicName() + ": it is this console");
        }
        if (consoleNeeds(b)) {
            throw new ApiError(409, "cannot " + action + " " + b.getSymbolicName() + " from the console: the console "
                    + "runs on it (use 'cornerstone bundles' or the node API)");
        }
    }

    /** Whether the console's bundle is wired to {@code b} (a package, the DS extender, ...). */
    private boolean consoleNeeds(Bundle b) {
        BundleWiring wiring = ctx.getBundle().adapt(BundleWiring.class);
        if (wiring == null) {
            return false;
        }
        for (BundleWire w : wiring.getRequiredWires(null)) {
            if (w.getProvider() != null && w.getProvider().getBundle().getBundleId() == b.getBundleId()) {
                return true;
            }
        }
        return false;
    }

    private static boolean fragment(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        return rev != null && (rev.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    Map<String, Object> start(long id) {
        Bundle b = bundle(id);
        if (b.getBundleId() == 0 || b.getBundleId() == ctx.getBundle().getBundleId()) {
            throw new ApiError(409, b.getSymbolicName() + " is running: it serves this page");
        }
        if (fragment(b)) {
            throw new ApiError(409, b.getSymbolicName() + " is a fragment: it is attached to its host, not started");
        }
        try {
            b.start();
            failures.remove(id);
        } catch (BundleException | RuntimeException e) {
            String msg = describe(e);
            failures.put(id, msg);
            LOG.log(Level.WARNING, "Starting " + b.getSymbolicName() + " [" + id + "] from the console failed: " + msg,
                    e);
            throw new ApiError(409, "could not start " + b.getSymbolicName() + ": " + msg);
        }
        return view(id);
    }

    Map<String, Object> stop(long id) {
        Bundle b = bundle(id);
        guard(b, "stop");
        if (fragment(b)) {
            throw new ApiError(409, b.getSymbolicName() + " is a fragment: it is never started, so it cannot stop");
        }
        try {
            b.stop();
        } catch (BundleException | RuntimeException e) {
            String msg = describe(e);
            LOG.log(Level.WARNING, "Stopping " + b.getSymbolicName() + " [" + id + "] from the console failed: " + msg,
                    e);
            throw new ApiError(409, "could not stop " + b.getSymbolicName() + ": " + msg);
        }
        return view(id);
    }

    /**
     * Updates a bundle: with {@code jar} null, from where it was installed (the same file, read
     * again); with a jar, to that jar, which must be the same bundle (symbolic name). A bundle
     * from {@code deploy/} gets the new jar written over its file there, so the update lasts;
     * a system bundle is part of the distribution and is only re-read.
     */
    Map<String, Object> update(long id, Path jar, long waitMillis) {
        Bundle b = bundle(id);
        guard(b, "update");
        if (jar != null) {
            String bsn = symbolicName(jar);
            if (!bsn.equals(b.getSymbolicName())) {
                throw new ApiError(400, "the uploaded jar is bundle " + bsn + ", not " + b.getSymbolicName()
                        + ": deploy it as a new bundle instead");
            }
            Map<String, Object> current = view(id);
            if (!"deploy".equals(current.get("source"))) {
                throw new ApiError(409, b.getSymbolicName() + " is a " + current.get("source") + " bundle, not one from "
                        + "deploy/: replace its jar in the distribution and restart the node");
            }
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("command", "deploy");
            request.put("path", jar.toString());
            request.put("name", current.get("file"));
            request.put("wait_ms", waitMillis);
            return services.call("node", request);
        }
        boolean wasActive = b.getState() == Bundle.ACTIVE;
        try {
            b.update();
            refresh(b);
            if (wasActive && b.getState() != Bundle.ACTIVE && !fragment(b)) {
                b.start();
            }
        } catch (BundleException | RuntimeException e) {
            String msg = describe(e);
            failures.put(id, msg);
            LOG.log(Level.WARNING, "Updating " + b.getSymbolicName() + " [" + id + "] from the console failed: " + msg,
                    e);
            throw new ApiError(409, "could not update " + b.getSymbolicName() + ": " + msg);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", "updated");
        m.put("bundle", view(id));
        return m;
    }

    /** Rewires the bundle's dependents to its new revision; waits up to 30 s. */
    private void refresh(Bundle b) {
        FrameworkWiring wiring = ctx.getBundle(0).adapt(FrameworkWiring.class);
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(List.of(b), event -> done.countDown());
        try {
            if (!done.await(30, TimeUnit.SECONDS)) {
                LOG.warning("Refreshing " + b.getSymbolicName() + " took longer than 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deploys an uploaded jar into deploy/ through the node service. */
    Map<String, Object> deploy(Path jar, String fileName, long waitMillis) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "deploy");
        request.put("path", jar.toString());
        if (fileName != null && !fileName.isBlank()) {
            request.put("name", fileName);
        }
        request.put("wait_ms", waitMillis);
        return services.call("node", request);
    }

    Map<String, Object> undeploy(String name, long waitMillis) {
        for (Map<String, Object> b : list()) {
            if ((name.equals(b.get("symbolicName")) || name.equals(b.get("file"))) && b.get("id") instanceof Number id
                    && id.longValue() > 0) {
                guard(bundle(id.longValue()), "uninstall");
            }
        }
        return services.call("node", Map.of("command", "undeploy", "name", name, "wait_ms", waitMillis));
    }

    /** The Bundle-SymbolicName of a jar; 400 when it has none (the node service says more on deploy). */
    static String symbolicName(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            Manifest mf = jf.getManifest();
            String bsn = mf == null ? null : mf.getMainAttributes().getValue("Bundle-SymbolicName");
            if (bsn == null || bsn.isBlank()) {
                throw new ApiError(400, "the uploaded file has no Bundle-SymbolicName in its manifest, so it is not "
                        + "an OSGi bundle");
            }
            return bsn.split(";", 2)[0].trim();
        } catch (IOException e) {
            throw new ApiError(400, "the uploaded file is not a valid jar (zip) file: " + e.getMessage());
        }
    }

    /** The message of an exception and its causes, on one line. */
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
}
