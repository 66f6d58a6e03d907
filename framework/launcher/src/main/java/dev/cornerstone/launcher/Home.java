package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The folders of a Cornerstone distribution. {@code bin/cornerstone} passes the
 * distribution's folder as {@code -Dcornerstone.home}; every other path derives from it,
 * so the distribution works in place and unpacked anywhere, from any working directory.
 *
 * <pre>
 * home/
 *   bin/       start script
 *   lib/       launcher class path (Felix, picocli, this jar)
 *   system/    bundles the container always boots
 *   deploy/    watched: bundles and .cfg / .cfg.json configurations, hot (un)deployed
 *   conf/      cornerstone.properties, api-token
 *   data/      (or --data DIR) framework cache, logs, node.json of a running node
 * </pre>
 */
public record Home(Path root, Path dataDir) {

    public static final String HOME_PROPERTY = "cornerstone.home";

    /** The home from {@code -Dcornerstone.home}, with its default data folder. */
    public static Home fromSystemProperty() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            throw new IllegalStateException("System property " + HOME_PROPERTY
                    + " is not set: start Cornerstone with bin/cornerstone");
        }
        Path root = Path.of(home).toAbsolutePath().normalize();
        return new Home(root, root.resolve("data"));
    }

    public Home withDataDir(Path dir) {
        return new Home(root, dir.toAbsolutePath().normalize());
    }

    public Path systemDir() {
        return root.resolve("system");
    }

    public Path deployDir() {
        return root.resolve("deploy");
    }

    public Path confDir() {
        return root.resolve("conf");
    }

    public Path cacheDir() {
        return dataDir.resolve("cache");
    }

    public Path logDir() {
        return dataDir.resolve("log");
    }

    public Path tmpDir() {
        return dataDir.resolve("tmp");
    }

    /**
     * Where a node puts the run folders of its jobs: the distribution's {@code runs/} for a node
     * on the default data folder (where {@code cornerstone train} puts runs too), else
     * {@code runs/} in its own data folder, so nodes started from one distribution with
     * {@code --data} keep their runs apart.
     */
    public Path runsDir() {
        return dataDir.equals(root.resolve("data")) ? root.resolve("runs") : dataDir.resolve("runs");
    }

    /** Written by a running node: its process id and API address. */
    public Path nodeFile() {
        return dataDir.resolve("node.json");
    }

    public Path tokenFile() {
        return confDir().resolve("api-token");
    }

    /** {@code conf/cornerstone.properties}; empty when the file does not exist. */
    public Properties properties() throws IOException {
        Properties p = new Properties();
        Path f = confDir().resolve("cornerstone.properties");
        if (Files.isRegularFile(f)) {
            try (InputStream in = Files.newInputStream(f)) {
                p.load(in);
            }
        }
        return p;
    }
}
