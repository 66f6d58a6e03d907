package dev.cornerstone.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.apache.felix.framework.FrameworkFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;

/**
 * The embedded Felix container of a node: boots every bundle in {@code system/}, then lets
 * Apache Felix File Install watch {@code deploy/} (bundles and configurations, added,
 * replaced or deleted while it runs). The framework cache lives under the data folder and
 * is cleaned at each start, so a node always boots exactly what {@code system/} and
 * {@code deploy/} hold.
 */
public final class Container implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.container");

    /** Bundles that must start after every other system bundle. */
    private static final String FILE_INSTALL = "org.apache.felix.fileinstall";

    private final Home home;
    private final Framework framework;
    private final BundleProblems problems;
    private final DeployedBundles deployed;

    private Container(Home home, Framework framework, BundleProblems problems, DeployedBundles deployed) {
        this.home = home;
        this.framework = framework;
        this.problems = problems;
        this.deployed = deployed;
    }

    /** Initialises Felix, installs and starts {@code system/}, then starts watching {@code deploy/}. */
    public static Container start(Home home, Properties overrides) throws IOException, BundleException {
        Files.createDirectories(home.deployDir());
        Files.createDirectories(home.tmpDir());
        Map<String, Object> config = frameworkConfig(home, overrides);
        @SuppressWarnings({"unchecked", "rawtypes"}) // Felix takes objects, such as its logger, as values
        Framework framework = new FrameworkFactory().newFramework((Map) config);
        framework.init();
        BundleContext ctx = framework.getBundleContext();

        BundleProblems problems = new BundleProblems(ctx);
        ctx.addFrameworkListener(problems);
        ctx.addBundleListener(problems);
        DeployedBundles deployed = new DeployedBundles(home.deployDir(), problems);
        ctx.addBundleListener(deployed);
        ctx.addFrameworkListener(deployed);

        List<Bundle> installed = installSystemBundles(ctx, home.systemDir(), problems);
        framework.start();
        Bundle fileInstall = null;
        for (Bundle b : installed) {
            if (FILE_INSTALL.equals(b.getSymbolicName())) {
                fileInstall = b;
                continue;
            }
            startQuietly(b, problems);
        }
        if (fileInstall == null) {
            LOG.warning("No " + FILE_INSTALL + " bundle in " + home.systemDir()
                    + ": deploy/ is not watched on this node");
        } else {
            startQuietly(fileInstall, problems);
        }
        return new Container(home, framework, problems, deployed);
    }

    static Map<String, Object> frameworkConfig(Home home, Properties overrides) {
        Map<String, Object> c = new HashMap<>();
        c.put(Constants.FRAMEWORK_STORAGE, home.cacheDir().toString());
        c.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        c.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "1");
        c.put("felix.log.logger", new FelixLogBridge());
        c.put("felix.log.level", "2");
        // JDK internals that Netty and LWJGL probe reflectively are delegated to the boot
        // class path instead of being imported; so is jdk.net, whose TCP keep-alive options
        // Hazelcast sets without importing it.
        c.put(Constants.FRAMEWORK_BOOTDELEGATION, "sun.*,com.sun.*,jdk.internal.*,jdk.net");

        // File Install: deploy/ polled every second; bundles it installs are started by
        // DeployedBundles, which records why one fails; configurations written back.
        c.put("felix.fileinstall.dir", home.deployDir().toString());
        c.put("felix.fileinstall.poll", "1000");
        c.put("felix.fileinstall.noInitialDelay", "true");
        c.put("felix.fileinstall.filter", "^[^.].*\\.(jar|cfg|config|cfg\\.json)$");
        c.put("felix.fileinstall.tmpdir", home.tmpDir().toString());
        c.put("felix.fileinstall.bundles.new.start", "false");
        c.put("felix.fileinstall.log.default", "jul");
        c.put("felix.fileinstall.log.level", "2");
        c.put("felix.fileinstall.enableConfigSave", "false");
        c.put("cornerstone.home", home.root().toString());
        c.put("cornerstone.data", home.dataDir().toString());
        for (String key : overrides.stringPropertyNames()) {
            c.put(key, overrides.getProperty(key));
        }
        return c;
    }

    private static List<Bundle> installSystemBundles(BundleContext ctx, Path systemDir, BundleProblems problems)
            throws IOException {
        List<Path> jars;
        try (Stream<Path> s = Files.list(systemDir)) {
            jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            try {
                bundles.add(ctx.installBundle(jar.toUri().toString()));
            } catch (BundleException e) {
                problems.rejectFile(jar, e.getMessage());
                LOG.log(Level.SEVERE, "Cannot install system bundle " + jar + ": " + e.getMessage(), e);
            }
        }
        return bundles;
    }

    private static void startQuietly(Bundle b, BundleProblems problems) {
        if (BundleProblems.isFragment(b)) {
            return;
        }
        try {
            b.start();
        } catch (BundleException | RuntimeException e) {
            problems.startFailed(b, e);
        }
    }

    public Framework framework() {
        return framework;
    }

    public BundleContext context() {
        return framework.getBundleContext();
    }

    public BundleProblems problems() {
        return problems;
    }

    public Home home() {
        return home;
    }

    /** Blocks until the framework has stopped, for whatever reason. */
    public FrameworkEvent awaitStop() throws InterruptedException {
        return framework.waitForStop(0);
    }

    /** Stops every bundle and the framework; waits up to {@code timeoutMillis}. */
    public boolean stop(long timeoutMillis) throws InterruptedException {
        deployed.close();
        try {
            framework.stop();
        } catch (BundleException e) {
            LOG.log(Level.WARNING, "Framework stop failed: " + e.getMessage(), e);
        }
        FrameworkEvent ev = framework.waitForStop(timeoutMillis);
        return ev.getType() != FrameworkEvent.WAIT_TIMEDOUT;
    }

    @Override
    public void close() throws InterruptedException {
        stop(10_000);
    }
}
