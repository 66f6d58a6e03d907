package dev.cornerstone.launcher;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.osgi.framework.Bundle;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * A running node: the container, its API, and the {@code node.json} that tells local
 * commands where the API is. Created by {@code cornerstone node}.
 */
public final class Node implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.node");
    static final int DEFAULT_PORT = 8080;
    static final long DEFAULT_MAX_UPLOAD = 256L * 1024 * 1024;

    private final Home home;
    private final Container container;
    private final Instant startedAt;
    private final long bootMillis;
    private NodeApi api;

    private Node(Home home, Container container, Instant startedAt, long bootMillis) {
        this.home = home;
        this.container = container;
        this.startedAt = startedAt;
        this.bootMillis = bootMillis;
    }

    /**
     * Boots the container and the API. {@code port}: null for the configured one
     * ({@code api.port} in conf/cornerstone.properties, default 8080), 0 for any free port.
     */
    public static Node start(Home home, String host, Integer port, long jvmStartMillis) throws Exception {
        return start(home, host, port, jvmStartMillis, new Properties());
    }

    /**
     * As {@link #start(Home, String, Integer, long)}, with framework properties that override
     * conf/cornerstone.properties (the cluster options of {@code cornerstone node}).
     */
    public static Node start(Home home, String host, Integer port, long jvmStartMillis, Properties overrides)
            throws Exception {
        Instant startedAt = Instant.now();
        Properties conf = home.properties();
        Properties frameworkOverrides = new Properties();
        for (String key : conf.stringPropertyNames()) {
            if (!key.startsWith("api.")) {
                frameworkOverrides.setProperty(key, conf.getProperty(key));
            }
        }
        frameworkOverrides.putAll(overrides);
        // Only a node may join a cluster or serve the console; the containers commands boot for one job never do.
        frameworkOverrides.setProperty("cornerstone.role", "node");
        ApiToken.Created token = ApiToken.readOrCreate(home.tokenFile());
        Container container = Container.start(home, frameworkOverrides);
        Node node = new Node(home, container, startedAt, System.currentTimeMillis() - jvmStartMillis);
        try {
            java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
            props.put("cornerstone.service", "node");
            container.context().registerService(java.util.function.Function.class.getName(), new NodeService(node),
                    props);
            String bindHost = host != null ? host : conf.getProperty("api.host", "127.0.0.1");
            int bindPort = port != null ? port : parseInt(conf, "api.port", DEFAULT_PORT);
            long maxUpload = Long.parseLong(conf.getProperty("api.upload.max.bytes", String.valueOf(DEFAULT_MAX_UPLOAD)));
            node.api = NodeApi.start(node, bindHost, bindPort, token.token(), maxUpload);
            node.writeNodeFile();
            node.announceApi();
        } catch (Exception e) {
            container.stop(10_000);
            throw e;
        }
        if (token.isNew()) {
            System.out.println("API and console token (created once, stored owner-only in " + home.tokenFile()
                    + "): " + token.token());
        }
        return node;
    }

    private static int parseInt(Properties p, String key, int def) {
        String v = p.getProperty(key);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("conf/cornerstone.properties: " + key + "=" + v
                    + " is not a port number (0..65535)");
        }
    }

    private void writeNodeFile() throws IOException {
        Files.createDirectories(home.dataDir());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        m.put("api", api.uri().toString());
        String console = consoleUrl();
        if (console != null) {
            m.put("console", console);
        }
        m.put("startedAt", startedAt.toString());
        Path tmp = home.dataDir().resolve(".node.json.tmp");
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), m);
        Files.move(tmp, home.nodeFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public Home home() {
        return home;
    }

    public Container container() {
        return container;
    }

    public NodeApi api() {
        return api;
    }

    /**
     * The web console's address, from the service the console bundle registers once it
     * listens ({@code cornerstone.service=console}, property {@code console.url}); null when
     * no console runs on this node.
     */
    public String consoleUrl() {
        try {
            ServiceReference<?>[] refs = container.context().getServiceReferences((String) null,
                    "(cornerstone.service=console)");
            return refs == null || refs.length == 0 ? null : (String) refs[0].getProperty("console.url");
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return null;
        }
    }

    public long bootMillis() {
        return bootMillis;
    }

    /**
     * A request to the job service in the container (a {@code Function<Map, Map>} with
     * {@code cornerstone.service=jobs}); its IllegalArgumentExceptions are for the user.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> jobs(Map<String, Object> request) throws InvalidSyntaxException {
        var ctx = container.context();
        ServiceReference<?>[] refs = ctx.getServiceReferences(java.util.function.Function.class.getName(),
                "(cornerstone.service=jobs)");
        if (refs == null || refs.length == 0) {
            throw new NodeApi.ApiException(503, "the job service (bundle dev.cornerstone.core) is not running on "
                    + "this node");
        }
        var jobs = (java.util.function.Function<Map<String, Object>, Map<String, Object>>) ctx.getService(refs[0]);
        if (jobs == null) {
            throw new NodeApi.ApiException(503, "the job service went away; try again");
        }
        try {
            return jobs.apply(request);
        } finally {
            ctx.ungetService(refs[0]);
        }
    }

    /** Starts a job from a full spec (paths absolute) in {@code runs/<id>}; {@code id} null: one made from the spec. */
    @SuppressWarnings("unchecked")
    Map<String, Object> submitJob(Object spec, Object id) throws InvalidSyntaxException {
        if (!(spec instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("spec: must be an object with sections model, optimizer, data, train, "
                    + "backend");
        }
        String runId = id == null ? TrainCommand.runId((Map<String, Object>) m) : String.valueOf(id);
        if (id == null) {
            // ids made from the time of day: a second job in the same second gets a suffix
            String base = runId;
            for (int i = 2; Files.exists(home.runsDir().resolve(runId)); i++) {
                runId = base + "-" + i;
            }
        }
        if (!runId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("id: '" + runId + "' is not a job id (letters, digits, '.', '_', '-'; "
                    + "at most 128)");
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "submit");
        request.put("spec", m);
        request.put("out", home.runsDir().resolve(runId).toString());
        request.put("base", home.root().toString());
        return jobs(request);
    }

    /**
     * Submits a cluster job (a spec with a {@code cluster} section) through the cluster bundle;
     * its run folder goes to the cluster's checkpoint folder, else this node's {@code runs/}.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> submitClusterJob(Map<String, Object> spec, Object id) throws InvalidSyntaxException {
        String runId = id == null ? TrainCommand.runId(spec) : String.valueOf(id);
        if (!runId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("id: '" + runId + "' is not a job id (letters, digits, '.', '_', '-'; "
                    + "at most 128)");
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "job-submit");
        request.put("spec", spec);
        request.put("id", runId);
        request.put("runs", home.runsDir().toAbsolutePath().toString());
        request.put("base", home.root().toString());
        return clusterJobs(request);
    }

    /**
     * A cluster-job command ({@code job-list}, {@code job-status}, {@code job-stop}); null when
     * this node runs no cluster bundle. Not being in a cluster is a 409.
     */
    Map<String, Object> clusterJobs(Map<String, Object> request) throws InvalidSyntaxException {
        try {
            Map<String, Object> answer = cluster(request);
            if (answer == null && "job-submit".equals(request.get("command"))) {
                throw new NodeApi.ApiException(503, "no cluster bundle (dev.cornerstone.cluster) is running on this "
                        + "node");
            }
            return answer;
        } catch (IllegalStateException e) {
            throw new NodeApi.ApiException(409, e.getMessage());
        }
    }

    Map<String, Object> info() {
        List<BundleView> views = bundleViews();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", Version.CORNERSTONE);
        m.put("pid", ProcessHandle.current().pid());
        m.put("home", home.root().toString());
        m.put("data", home.dataDir().toString());
        m.put("startedAt", startedAt.toString());
        m.put("bootMillis", bootMillis);
        m.put("uptimeMillis", ManagementFactory.getRuntimeMXBean().getUptime());
        m.put("java", Runtime.version().toString());
        m.put("bundles", views.stream().filter(v -> v.id() >= 0).count());
        m.put("healthy", views.stream().filter(BundleView::healthy).count());
        m.put("problems", views.stream().filter(v -> v.problem() != null).count());
        m.put("console", consoleUrl());
        return m;
    }

    static final String CLUSTER_FILTER = "(&(objectClass=java.util.function.Function)(cornerstone.service=cluster))";

    /**
     * Calls the cluster bundle's service ({@code cornerstone.service=cluster}, a
     * {@code Function<Map, Map>}: only JDK types cross into the container); null when that
     * bundle is not there.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> cluster(Map<String, Object> request) throws InvalidSyntaxException {
        ServiceReference<?>[] refs = container.context().getServiceReferences(java.util.function.Function.class
                .getName(), CLUSTER_FILTER);
        if (refs == null || refs.length == 0) {
            return null;
        }
        Object service = container.context().getService(refs[0]);
        try {
            return ((java.util.function.Function<Map<String, Object>, Map<String, Object>>) service).apply(request);
        } finally {
            container.context().ungetService(refs[0]);
        }
    }

    /** Tells the cluster bundle where this node's API is, for the node registry. */
    private void announceApi() {
        try {
            cluster(Map.of("command", "announce", "api", api.uri().toString()));
        } catch (InvalidSyntaxException | RuntimeException e) {
            LOG.warning("Cannot tell the cluster bundle the API address: " + e);
        }
    }

    /** Every bundle, then every file in deploy/ that did not become a bundle. */
    public List<BundleView> bundleViews() {
        List<BundleView> views = new ArrayList<>();
        Set<Path> installedFiles = new java.util.HashSet<>();
        for (Bundle b : container.context().getBundles()) {
            views.add(BundleView.of(b, home, container.problems()));
            Path f = DeployedBundles.deployedFile(b, home.deployDir());
            if (f != null) {
                installedFiles.add(f);
            }
        }
        try {
            for (Path jar : new DeployFolder(home.deployDir()).jars()) {
                if (!installedFiles.contains(jar.toAbsolutePath().normalize())) {
                    BundleFile bf = BundleFile.inspect(jar);
                    String why = bf.ok()
                            ? "not installed yet, or File Install refused it (see the node's log)"
                            : bf.error();
                    views.add(BundleView.rejected(jar, why));
                }
            }
        } catch (IOException e) {
            LOG.warning("Cannot list " + home.deployDir() + ": " + e.getMessage());
        }
        container.problems().rejectedFiles().forEach((file, why) -> views.add(BundleView.rejected(file, why)));
        return views;
    }

    List<Map<String, Object>> services() throws InvalidSyntaxException {
        ServiceReference<?>[] refs = container.context().getAllServiceReferences(null, null);
        List<Map<String, Object>> list = new ArrayList<>();
        if (refs != null) {
            for (ServiceReference<?> ref : refs) {
                list.add(BundleView.service(ref));
            }
        }
        list.sort((a, b) -> Long.compare(((Number) a.get("service.id")).longValue(),
                ((Number) b.get("service.id")).longValue()));
        return list;
    }

    /** Puts a jar into deploy/ and waits (up to {@code waitMillis}) until File Install has acted on it. */
    Map<String, Object> deploy(Path jar, String requestedName, long waitMillis) throws IOException, InterruptedException {
        BundleFile bf = BundleFile.inspect(jar);
        if (!bf.ok()) {
            throw new IllegalArgumentException(bf.error());
        }
        DeployFolder folder = new DeployFolder(home.deployDir());
        boolean existed = folder.find(bf.symbolicName()).isPresent();
        Path target = folder.deploy(jar, requestedName);
        LOG.info("Deployed " + bf.symbolicName() + " " + bf.version() + " to " + target);
        BundleView view = awaitSettled(target, bf.version(), waitMillis);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", existed ? "updated" : "installed");
        m.put("file", target.getFileName().toString());
        m.put("bundle", view);
        return m;
    }

    Map<String, Object> undeploy(String name, long waitMillis) throws IOException, InterruptedException {
        DeployFolder folder = new DeployFolder(home.deployDir());
        Path jar = folder.find(name).orElse(null);
        if (jar == null) {
            boolean system = bundleViews().stream().anyMatch(v -> "system".equals(v.source())
                    && (name.equals(v.symbolicName()) || name.equals(v.file())));
            if (system) {
                throw new NodeApi.ApiException(409, name + " is a system bundle (part of the distribution's system/ "
                        + "folder) and cannot be undeployed");
            }
            String deployed = folder.jars().stream().map(p -> p.getFileName().toString())
                    .collect(Collectors.joining(", "));
            throw new NodeApi.ApiException(404, "nothing named '" + name + "' in deploy/ (deployed: "
                    + (deployed.isEmpty() ? "none" : deployed) + ")");
        }
        BundleFile bf = BundleFile.inspect(jar);
        folder.undeploy(jar);
        LOG.info("Removed " + jar + " from deploy/");
        long deadline = System.currentTimeMillis() + waitMillis;
        boolean gone = false;
        while (System.currentTimeMillis() < deadline) {
            if (findByFile(jar) == null) {
                gone = true;
                break;
            }
            Thread.sleep(100);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", jar.getFileName().toString());
        m.put("symbolicName", bf.symbolicName());
        m.put("uninstalled", gone);
        return m;
    }

    private Bundle findByFile(Path file) {
        Path norm = file.toAbsolutePath().normalize();
        for (Bundle b : container.context().getBundles()) {
            if (norm.equals(DeployedBundles.deployedFile(b, home.deployDir()))) {
                return b;
            }
        }
        return null;
    }

    /** Polls until the bundle from {@code file} has {@code version} and is active or has a problem. */
    private BundleView awaitSettled(Path file, String version, long waitMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMillis;
        BundleView last = null;
        do {
            Bundle b = findByFile(file);
            if (b != null) {
                last = BundleView.of(b, home, container.problems());
                boolean sameVersion = b.getVersion().toString().equals(org.osgi.framework.Version.parseVersion(version)
                        .toString());
                if (sameVersion && (last.healthy() || container.problems().hasRecordedProblem(b))) {
                    return last;
                }
            }
            Thread.sleep(100);
        } while (System.currentTimeMillis() < deadline);
        return last;
    }

    /** Blocks until the framework stops (for example after {@link #close()} from a shutdown hook). */
    public void awaitStop() throws InterruptedException {
        container.awaitStop();
    }

    @Override
    public void close() throws InterruptedException {
        if (api != null) {
            api.close();
        }
        try {
            Files.deleteIfExists(home.nodeFile());
        } catch (IOException e) {
            LOG.warning("Cannot delete " + home.nodeFile() + ": " + e.getMessage());
        }
        boolean stopped = container.stop(10_000);
        LOG.info(stopped ? "Node stopped" : "Framework did not stop within 10 s");
    }
}
