package dev.cornerstone.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.logging.Level;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.util.tracker.ServiceTracker;

/**
 * For the commands that compute ({@code train}, {@code generate}, {@code eval},
 * {@code backends}, {@code finetune}, {@code predict}, {@code lora merge}): boots the distribution's container in this process (its own cache
 * under {@code data/tmp/cmd-<pid>}, so a node running from the same distribution is not
 * disturbed), waits for the services a job needs, and calls the job service. Bundles in
 * {@code deploy/} are used exactly as on a node.
 *
 * <p>The job service is a {@code Function<Map, Map>} registered with
 * {@code cornerstone.service=jobs}: only JDK types cross between this launcher and the
 * container's bundles.
 */
final class JobClient implements AutoCloseable {

    /** How long the job service may take to come up (the container is booting). */
    static final long JOB_SERVICE_WAIT_MILLIS = 30_000;
    /**
     * How long a named provider may lag behind the job service: every bundle of system/ and
     * deploy/ is started by then, so a longer wait would only delay the error for a typo.
     */
    static final long PROVIDER_WAIT_MILLIS = 5_000;

    static final String JOBS_FILTER = serviceFilter("jobs");

    /** The fine-tuning service of bundle dev.cornerstone.finetune ({@code finetune}, {@code predict}, {@code merge}). */
    static final String FINETUNE = "finetune";

    static String serviceFilter(String service) {
        return "(&(objectClass=java.util.function.Function)(cornerstone.service=" + service + "))";
    }

    /** The objectClass of compute backends, and the property of a backend's "not offered" marker service. */
    static final String BACKEND_CLASS = "dev.cornerstone.api.backend.ComputeBackend";
    static final String UNAVAILABLE = "cornerstone.backend.unavailable";
    /**
     * Property of a backend service (or marker) naming the configuration pid it is configured by;
     * with {@value #CONFIG_FILE}, which File Install puts into the configurations it makes from
     * {@code deploy/}, it tells a backend activated before its file was read from one that has it.
     */
    static final String CONFIG_PID = "cornerstone.config.pid";
    static final String CONFIG_FILE = "felix.fileinstall.filename";

    private final Container container;
    private final Path cmdData;
    private final Path deployDir;

    private JobClient(Container container, Path cmdData, Path deployDir) {
        this.container = container;
        this.cmdData = cmdData;
        this.deployDir = deployDir;
    }

    static JobClient start(Home home) throws Exception {
        Path cmdData = home.dataDir().resolve("tmp").resolve("cmd-" + ProcessHandle.current().pid());
        Logging.configureConsoleOnly(Level.WARNING);
        Properties overrides = new Properties();
        for (String key : home.properties().stringPropertyNames()) {
            if (!key.startsWith("api.")) {
                overrides.setProperty(key, home.properties().getProperty(key));
            }
        }
        Container c = Container.start(home.withDataDir(cmdData), overrides);
        return new JobClient(c, cmdData, home.deployDir());
    }

    /** Waits until a service matching {@code filter} is registered; fails with {@code what} named. */
    void await(String filter, String what, long millis) throws InterruptedException {
        BundleContext ctx = container.context();
        Filter f;
        try {
            f = FrameworkUtil.createFilter(filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(what + ": '" + filter + "' is not a valid name", e);
        }
        ServiceTracker<Object, Object> t = new ServiceTracker<>(ctx, f, null);
        t.open(true);
        try {
            if (t.waitForService(millis) == null) {
                throw new CliException("no " + what + " is available (is its bundle in system/ or deploy/?)"
                        + available(filter) + problemsText());
            }
        } finally {
            t.close();
        }
    }

    private String problemsText() {
        StringBuilder sb = new StringBuilder();
        for (org.osgi.framework.Bundle b : container.context().getBundles()) {
            String p = container.problems().problemOf(b);
            if (p != null) {
                sb.append("\n  ").append(b.getSymbolicName()).append(": ").append(p);
            }
        }
        return sb.isEmpty() ? "" : "; bundles with problems:" + sb;
    }

    /** The names registered for the kind of service {@code filter} asks for, for the error message. */
    private String available(String filter) {
        String[][] kinds = {{"ModelProvider", "model.name"}, {"OptimizerProvider", "optimizer.name"},
            {"DatasetProvider", "dataset.name"}, {"ComputeBackend", "backend.name"}, {"AdapterProvider", "adapter.name"}};
        for (String[] k : kinds) {
            if (filter.contains(k[0])) {
                java.util.TreeSet<String> names = new java.util.TreeSet<>();
                try {
                    var refs = container.context().getAllServiceReferences(null, "(" + k[1] + "=*)");
                    if (refs != null) {
                        for (var r : refs) {
                            names.add(String.valueOf(r.getProperty(k[1])));
                        }
                    }
                } catch (InvalidSyntaxException e) {
                    return "";
                }
                return "; available " + k[1] + ": " + (names.isEmpty() ? "none" : String.join(", ", names));
            }
        }
        return "";
    }

    /**
     * Waits, at most {@link #PROVIDER_WAIT_MILLIS}, until every jar in {@code deploy/} is a bundle
     * that started (or has a reported problem) and every active bundle that declares a compute
     * backend service ({@code Provide-Capability: osgi.service;objectClass=...ComputeBackend}) has
     * registered it, or a marker saying it offers none ({@value #UNAVAILABLE}). Bundles of
     * {@code deploy/} start after the container, and a backend may open its device as it
     * activates: without this wait {@code backends} and {@code backend.name: auto} would see
     * whichever backends happened to be there first. A backend whose configuration file is in
     * {@code deploy/} is waited for until it runs with that file: File Install may read the file
     * after the backend has activated with its defaults, and the backend is then replaced (it is
     * briefly absent) by one with the file's settings.
     */
    void awaitBackends() throws InterruptedException {
        long deadline = System.nanoTime() + PROVIDER_WAIT_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline && !(deployedSettled() && backendsRegistered())) {
            Thread.sleep(50);
        }
    }

    private boolean deployedSettled() {
        List<Path> jars;
        try (var s = Files.list(deployDir)) {
            jars = s.filter(p -> p.getFileName().toString().endsWith(".jar") && !p.getFileName().toString().startsWith("."))
                    .map(p -> p.toAbsolutePath().normalize()).toList();
        } catch (java.io.IOException e) {
            return true;
        }
        var rejected = container.problems().rejectedFiles().keySet();
        for (Path jar : jars) {
            boolean settled = rejected.contains(jar);
            for (org.osgi.framework.Bundle b : container.context().getBundles()) {
                if (jar.equals(DeployedBundles.deployedFile(b, deployDir))) {
                    settled = isSettled(b);
                }
            }
            if (!settled) {
                return false;
            }
        }
        return true;
    }

    /**
     * A deployed bundle is settled when it started, is a fragment, or failed for a reason that will
     * not go away by waiting: a recorded start failure or a requirement nothing provides. A bundle
     * File Install has installed but not yet started is not (it shows "not resolved" meanwhile).
     */
    private boolean isSettled(org.osgi.framework.Bundle b) {
        if (b.getState() == org.osgi.framework.Bundle.ACTIVE || BundleProblems.isFragment(b)
                || container.problems().hasRecordedProblem(b)) {
            return true;
        }
        return b.getState() == org.osgi.framework.Bundle.INSTALLED
                && !container.problems().missingRequirements(b).isEmpty();
    }

    private boolean backendsRegistered(org.osgi.framework.Bundle b) {
        var refs = b.getRegisteredServices();
        if (refs != null) {
            for (var r : refs) {
                if ((r.getProperty(UNAVAILABLE) != null
                        || java.util.Arrays.asList((String[]) r.getProperty("objectClass")).contains(BACKEND_CLASS))
                        && configured(r.getProperty(CONFIG_PID), r.getProperty(CONFIG_FILE))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Waits, at most {@link #PROVIDER_WAIT_MILLIS}, until a service matching {@code filter} runs
     * with its configuration file in {@code deploy/} (or has none there): the backend registered
     * first may have activated with its defaults before File Install read the file, and is then
     * replaced (briefly absent) by one with the file's settings.
     */
    private void awaitConfigured(String filter) throws InterruptedException {
        long deadline = System.nanoTime() + PROVIDER_WAIT_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                var refs = container.context().getServiceReferences((String) null, filter);
                if (refs != null) {
                    for (var r : refs) {
                        if (configured(r.getProperty(CONFIG_PID), r.getProperty(CONFIG_FILE))) {
                            return;
                        }
                    }
                }
            } catch (InvalidSyntaxException e) {
                return;
            }
            Thread.sleep(50);
        }
    }

    private static Path fileOf(String uri) {
        try {
            return Path.of(java.net.URI.create(uri)).toAbsolutePath().normalize();
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /**
     * Whether a backend configured by {@code pid} runs with its file in {@code deploy/}
     * ({@code pid.cfg}, {@code pid.cfg.json} or {@code pid.config}), or there is none.
     */
    private boolean configured(Object pid, Object file) {
        if (pid == null) {
            return true;
        }
        for (String ext : new String[] {".cfg", ".cfg.json", ".config"}) {
            Path cfg = deployDir.resolve(pid + ext);
            if (Files.isRegularFile(cfg)) {
                return file != null && cfg.toAbsolutePath().normalize().equals(fileOf(String.valueOf(file)));
            }
        }
        return true;
    }

    private boolean backendsRegistered() {
        for (org.osgi.framework.Bundle b : container.context().getBundles()) {
            String caps = b.getHeaders().get("Provide-Capability");
            if (b.getState() == org.osgi.framework.Bundle.ACTIVE && caps != null && caps.contains(BACKEND_CLASS)
                    && !backendsRegistered(b)) {
                return false;
            }
        }
        return true;
    }

    /** Backends that declined to offer themselves (no device, for example), by name, with their reason. */
    Map<String, String> unavailableBackends() throws InvalidSyntaxException {
        Map<String, String> m = new java.util.TreeMap<>();
        var refs = container.context().getAllServiceReferences(null, "(" + UNAVAILABLE + "=*)");
        if (refs != null) {
            for (var r : refs) {
                m.put(String.valueOf(r.getProperty(UNAVAILABLE)), String.valueOf(r.getProperty("cornerstone.backend.reason")));
            }
        }
        return m;
    }

    /** Waits for the job service, then for the named providers of a spec's sections. */
    void awaitProviders(String model, String optimizer, String dataset, String backend) throws InterruptedException {
        await(JOBS_FILTER, "job service (bundle dev.cornerstone.core)", JOB_SERVICE_WAIT_MILLIS);
        if (model != null) {
            await("(&(objectClass=dev.cornerstone.api.model.ModelProvider)(model.name=" + model + "))",
                    "model named '" + model + "'", PROVIDER_WAIT_MILLIS);
        }
        if (optimizer != null) {
            await("(&(objectClass=dev.cornerstone.api.optim.OptimizerProvider)(optimizer.name=" + optimizer + "))",
                    "optimizer named '" + optimizer + "'", PROVIDER_WAIT_MILLIS);
        }
        if (dataset != null) {
            await("(&(objectClass=dev.cornerstone.api.data.DatasetProvider)(dataset.name=" + dataset + "))",
                    "dataset named '" + dataset + "'", PROVIDER_WAIT_MILLIS);
        }
        if ("auto".equals(backend)) {
            awaitBackends();
        }
        if (backend != null) {
            String filter = "auto".equals(backend) ? "(objectClass=" + BACKEND_CLASS + ")"
                    : "(&(objectClass=" + BACKEND_CLASS + ")(backend.name=" + backend + "))";
            await(filter, "auto".equals(backend) ? "compute backend" : "backend named '" + backend + "'",
                    PROVIDER_WAIT_MILLIS);
            awaitConfigured(filter);
        }
    }

    /** Waits for the adapter named {@code name} ({@code adapter.name}, for example lora). */
    void awaitAdapter(String name) throws InterruptedException {
        await("(&(objectClass=dev.cornerstone.api.model.AdapterProvider)(adapter.name=" + name + "))",
                "adapter named '" + name + "'", PROVIDER_WAIT_MILLIS);
    }

    Map<String, Object> call(Map<String, Object> request) throws Exception {
        return call("jobs", "job service (bundle dev.cornerstone.core)", request);
    }

    /** Calls the service registered with {@code cornerstone.service=<service>}; {@code what} names it in errors. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(String service, String what, Map<String, Object> request) throws Exception {
        await(serviceFilter(service), what, JOB_SERVICE_WAIT_MILLIS);
        BundleContext ctx = container.context();
        var refs = ctx.getServiceReferences(Function.class.getName(), "(cornerstone.service=" + service + ")");
        var ref = refs[0];
        Function<Map<String, Object>, Map<String, Object>> jobs =
                (Function<Map<String, Object>, Map<String, Object>>) ctx.getService(ref);
        try {
            return jobs.apply(request);
        } finally {
            ctx.ungetService(ref);
        }
    }

    @Override
    public void close() throws Exception {
        container.stop(10_000);
        deleteTree(cmdData);
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            List<Path> all = s.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path x : all) {
                Files.deleteIfExists(x);
            }
        } catch (java.io.IOException e) {
            // leftovers in data/tmp are harmless
        }
    }
}
