package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cornerstone node}: runs a container in the foreground until SIGTERM or Ctrl-C. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Run a Cornerstone node in the foreground: boot the bundles in system/, watch deploy/ for "
                + "bundles and configurations, serve the node API on 127.0.0.1.",
            "Stops cleanly on SIGTERM or Ctrl-C."})
final class NodeCommand implements Callable<Integer> {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.node");

    @Option(names = "--port", paramLabel = "PORT",
            description = "API port (default: api.port in conf/cornerstone.properties, else 8080; moves on to the "
                    + "next port while taken; 0 picks any free port).")
    Integer port;

    @Option(names = "--host", paramLabel = "HOST",
            description = "Address the API binds to (default: api.host in conf/cornerstone.properties, else 127.0.0.1).")
    String host;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder for the framework cache, logs and node.json (default: the distribution's data/).")
    Path data;

    @Option(names = "--cluster",
            description = "Join or form a cluster (Hazelcast and a clustered event bus) with the settings in "
                    + "conf/cornerstone.properties (cluster.*: members, interfaces, ports; loopback by default).")
    boolean cluster;

    @Option(names = "--join", paramLabel = "HOST[:PORT]", split = ",",
            description = "Join the cluster of the node at HOST[:PORT] (its cluster port; without PORT, cluster.port "
                    + "and the two after it are tried). Repeatable; replaces cluster.members. A node that finds "
                    + "nobody there reports the failure instead of forming a cluster of its own, unless the address "
                    + "is its own.")
    java.util.List<String> join;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "Cluster name (default: cluster.name in conf/cornerstone.properties, else cornerstone); "
                    + "nodes of another name are refused.")
    String clusterName;

    /** The cluster options as framework properties (read by the cluster bundle). */
    java.util.Properties clusterProperties() {
        java.util.Properties p = new java.util.Properties();
        if (cluster) {
            p.setProperty("cluster.enabled", "true");
        }
        if (join != null && !join.isEmpty()) {
            for (String j : join) {
                if (j.isBlank() || j.contains("/")) {
                    throw new IllegalArgumentException("--join " + j + " is not HOST or HOST:PORT");
                }
            }
            p.setProperty("cluster.join", String.join(",", join));
        }
        if (clusterName != null) {
            p.setProperty("cluster.name", clusterName);
        }
        return p;
    }

    @Override
    public Integer call() throws Exception {
        long jvmStart = ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli())
                .orElse(System.currentTimeMillis());
        Home home = Home.fromSystemProperty();
        if (data != null) {
            home = home.withDataDir(data);
        }
        if (port != null && (port < 0 || port > 65535)) {
            throw new IllegalArgumentException("--port " + port + " is not a port number (0..65535)");
        }
        Path logFile = Logging.configure(home.logDir(), Level.INFO);
        Node node;
        try {
            node = Node.start(home, host, port, jvmStart, clusterProperties());
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "Node failed to start: " + e.getMessage(), e);
            Logging.close();
            throw e;
        }
        long active = node.bundleViews().stream().filter(BundleView::healthy).count();
        long total = node.bundleViews().stream().filter(v -> v.id() >= 0).count();
        LOG.info("Cornerstone " + Version.CORNERSTONE + " node started in " + node.bootMillis() + " ms: " + active + "/"
                + total + " bundles active, API at " + node.api().uri() + ", log " + logFile + ", pid "
                + ProcessHandle.current().pid());
        String console = node.consoleUrl();
        LOG.info(console != null ? "Console at " + console + " (log in with the token in " + home.tokenFile() + ")"
                : "No web console on this node (bundle dev.cornerstone.console not active; see the log)");
        BundlesCommand.printTable(new java.io.PrintWriter(System.out, true),
                new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(node.bundleViews()));
        node.bundleViews().stream().filter(v -> v.problem() != null).forEach(v -> LOG.warning(
                "Bundle " + (v.symbolicName() == null ? v.file() : v.symbolicName()) + " is " + v.state() + ": "
                        + v.problem()));

        AtomicBoolean closing = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            if (closing.compareAndSet(false, true)) {
                LOG.info("Stopping node (signal received)");
                try {
                    node.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                Logging.close();
            }
        }, "cornerstone-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        node.awaitStop();
        if (closing.compareAndSet(false, true)) {
            // The framework stopped on its own (the system bundle was stopped): leave the same way.
            LOG.info("Framework stopped; node exiting");
            node.close();
            Logging.close();
            Runtime.getRuntime().removeShutdownHook(hook);
            return 0;
        }
        // A shutdown hook is closing the node; the JVM exits when it returns.
        Thread.currentThread().join();
        return 0;
    }
}
