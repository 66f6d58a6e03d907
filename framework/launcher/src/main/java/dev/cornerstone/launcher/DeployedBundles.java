package dev.cornerstone.launcher;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Starts the bundles File Install installs from {@code deploy/}, so that a failure is
 * recorded with its reason ({@link BundleProblems}) instead of disappearing into File
 * Install's log. A bundle that could not resolve is tried again whenever another bundle
 * arrives, so deploying a missing dependency later starts it. A jar in {@code deploy/}
 * that is not a bundle at all (File Install drops it silently) is logged once per version
 * of the file, with the reason.
 *
 * <p>When: File Install refreshes the bundles it installed or updated right after doing so
 * (which stops and restarts them), so a bundle is started once that refresh is done
 * ({@link FrameworkEvent#PACKAGES_REFRESHED}), or after {@link #START_FALLBACK_MILLIS} if no
 * refresh comes; starting it at once would register its services only to have the refresh
 * take them away again a moment later.
 */
final class DeployedBundles implements BundleListener, FrameworkListener, AutoCloseable {

    /** Start a pending bundle after this long even if File Install's refresh never comes. */
    static final long START_FALLBACK_MILLIS = 3000;

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.deploy");

    private final Path deployDir;
    private final BundleProblems problems;
    private final ScheduledExecutorService starter = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cornerstone-deploy-starter");
        t.setDaemon(true);
        return t;
    });
    /** Installed or updated from deploy/, waiting for File Install's refresh before they start. */
    private final java.util.Set<Bundle> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED && !pending.isEmpty()) {
            List<Bundle> ready = new ArrayList<>(pending);
            pending.removeAll(ready);
            submit(() -> ready.forEach(this::start));
        }
    }

    /** Rejected files already logged, with the size and time of the version that was logged. */
    private final Map<Path, String> loggedRejects = new HashMap<>();
    /** Size and time of each jar at the previous scan: a file is judged once it stops changing. */
    private Map<Path, String> previousScan = new HashMap<>();

    DeployedBundles(Path deployDir, BundleProblems problems) {
        this.deployDir = deployDir.toAbsolutePath().normalize();
        this.problems = problems;
        starter.scheduleWithFixedDelay(this::logRejectedFiles, 1, 1, TimeUnit.SECONDS);
    }

    /** Logs each jar in deploy/ that cannot be a bundle, once per version of the file. */
    private void logRejectedFiles() {
        try {
            Map<Path, String> seen = new HashMap<>();
            Map<Path, String> scan = new HashMap<>();
            for (Path jar : new DeployFolder(deployDir).jars()) {
                String stamp = Files.size(jar) + "@" + Files.getLastModifiedTime(jar).toMillis();
                scan.put(jar, stamp);
                if (stamp.equals(loggedRejects.get(jar))) {
                    seen.put(jar, stamp);
                    continue;
                }
                if (!stamp.equals(previousScan.get(jar))) {
                    continue; // still being written, or just arrived
                }
                BundleFile bf = BundleFile.inspect(jar);
                if (!bf.ok()) {
                    LOG.severe("Cannot install " + jar + ": " + bf.error());
                    seen.put(jar, stamp);
                }
            }
            loggedRejects.keySet().retainAll(seen.keySet());
            loggedRejects.putAll(seen);
            previousScan = scan;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "deploy/ scan failed", e);
        }
    }

    /** The file in {@code deploy/} a bundle came from, or null when it came from elsewhere. */
    static Path deployedFile(Bundle b, Path deployDir) {
        String location = b.getLocation();
        try {
            URI uri = URI.create(location);
            if (!"file".equals(uri.getScheme())) {
                return null;
            }
            Path p = Path.of(uri).toAbsolutePath().normalize();
            return p.getParent() != null && p.getParent().equals(deployDir.toAbsolutePath().normalize()) ? p : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle b = event.getBundle();
        switch (event.getType()) {
            case BundleEvent.INSTALLED, BundleEvent.UPDATED -> {
                Path file = deployedFile(b, deployDir);
                if (file != null) {
                    problems.acceptFile(file);
                    LOG.info((event.getType() == BundleEvent.INSTALLED ? "Installed " : "Updated ")
                            + b.getSymbolicName() + " " + b.getVersion() + " from " + file.getFileName());
                    pending.add(b);
                    starter.schedule(() -> {
                        if (pending.remove(b)) {
                            start(b);
                        }
                    }, START_FALLBACK_MILLIS, TimeUnit.MILLISECONDS);
                }
            }
            case BundleEvent.UNINSTALLED -> {
                Path file = deployedFile(b, deployDir);
                if (file != null) {
                    LOG.info("Uninstalled " + b.getSymbolicName() + " " + b.getVersion() + " (" + file.getFileName()
                            + " removed)");
                }
            }
            case BundleEvent.STARTED -> submit(() -> retryUnresolved(b.getBundleContext()));
            default -> { }
        }
    }

    private void submit(Runnable task) {
        if (!starter.isShutdown()) {
            starter.execute(task);
        }
    }

    private void start(Bundle b) {
        if (b.getState() == Bundle.UNINSTALLED || b.getState() == Bundle.ACTIVE || BundleProblems.isFragment(b)) {
            return;
        }
        try {
            b.start();
        } catch (BundleException | IllegalStateException e) {
            if (b.getState() != Bundle.UNINSTALLED) {
                problems.startFailed(b, e);
            }
        } catch (RuntimeException e) {
            problems.startFailed(b, e);
        }
    }

    /** Starts deployed bundles that failed to resolve before, if they resolve now. */
    private void retryUnresolved(BundleContext any) {
        if (any == null) {
            return;
        }
        List<Bundle> waiting = new ArrayList<>();
        for (Bundle b : any.getBundles()) {
            if (b.getState() == Bundle.INSTALLED && deployedFile(b, deployDir) != null) {
                waiting.add(b);
            }
        }
        if (waiting.isEmpty()) {
            return;
        }
        FrameworkWiring wiring = any.getBundle(0).adapt(FrameworkWiring.class);
        wiring.resolveBundles(waiting);
        for (Bundle b : waiting) {
            if (b.getState() == Bundle.RESOLVED) {
                LOG.log(Level.INFO, "Requirements of " + b.getSymbolicName() + " are now met; starting it");
                start(b);
            }
        }
    }

    @Override
    public void close() {
        starter.shutdown();
        try {
            starter.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
