package dev.cornerstone.console;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Runs the web console on a node ({@code cornerstone.role=node}; the commands that boot a
 * container for one job never serve it). It starts on its own Vert.x instance, registers a
 * {@code Function} service with {@code cornerstone.service=console} and the property
 * {@code console.url} once it listens (the launcher prints that address), and restarts on the
 * new settings when its configuration changes. A bad configuration is logged, naming the key,
 * and a console already running keeps its settings.
 */
@Component(immediate = true, configurationPid = ConsoleSettings.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
public final class ConsoleComponent {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    static final long START_TIMEOUT_SECONDS = 20;

    private BundleContext ctx;
    private ConsoleSettings settings;
    private Vertx vertx;
    private EventHub events;
    private BundleListener bundleListener;
    private ServiceTracker<Object, Runnable> jobWatch;
    private ServiceTracker<Object, Runnable> clusterWatch;
    private ClusterJobFeed clusterJobs;
    private ServiceRegistration<?> registration;
    private String url;

    @Activate
    synchronized void activate(BundleContext context, Map<String, Object> config) {
        this.ctx = context;
        if (!"node".equals(context.getProperty("cornerstone.role"))) {
            LOG.fine("Not a node (framework property cornerstone.role is not 'node'): no console");
            return;
        }
        ConsoleSettings s;
        try {
            s = ConsoleSettings.from(config, context::getProperty);
        } catch (IllegalArgumentException e) {
            LOG.severe("Console not started: " + e.getMessage());
            return;
        }
        start(s);
    }

    @Modified
    synchronized void modified(Map<String, Object> config) {
        if (!"node".equals(ctx.getProperty("cornerstone.role"))) {
            return;
        }
        ConsoleSettings s;
        try {
            s = ConsoleSettings.from(config, ctx::getProperty);
        } catch (IllegalArgumentException e) {
            LOG.severe("Console configuration not applied" + (vertx != null ? " (the console keeps running on "
                    + url + ")" : "") + ": " + e.getMessage());
            return;
        }
        if (s.equals(settings) && (vertx != null || !s.enabled())) {
            return;
        }
        LOG.info("Console configuration changed: restarting the console");
        stop();
        start(s);
    }

    @Deactivate
    synchronized void deactivate() {
        stop();
    }

    private void start(ConsoleSettings s) {
        settings = s;
        if (!s.enabled()) {
            LOG.info("Console disabled (enabled=false in its configuration)");
            return;
        }
        Vertx v = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(4)
                .setFileSystemOptions(new FileSystemOptions()
                        .setFileCacheDir(s.dataDir().resolve("tmp").resolve("console-cache").toString())));
        try {
            NodeServices services = new NodeServices(ctx);
            BundleActions actions = new BundleActions(ctx, services);
            EventHub hub = new EventHub(v);
            ConsoleApp app = new ConsoleApp(v, s, services, actions, hub);
            ConsoleVerticle verticle = new ConsoleVerticle(app, s, hub);
            // The bundle's class loader: the static handler resolves the page's files through it.
            v.deployVerticle(verticle, new DeploymentOptions().setClassLoader(ConsoleComponent.class.getClassLoader()))
                    .toCompletionStage().toCompletableFuture().get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            vertx = v;
            events = hub;
            bundleListener = e -> bundleChanged(actions, hub, e);
            ctx.addBundleListener(bundleListener);
            jobWatch = watchJobs(hub);
            clusterWatch = watchCluster(hub, app.cluster());
            clusterJobs = new ClusterJobFeed(v, app.jobs(), hub);
            clusterJobs.start();
            url = "http://" + urlHost(s.host()) + ":" + verticle.port() + "/";
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("cornerstone.service", "console");
            props.put("console.url", url);
            props.put("console.port", verticle.port());
            String consoleUrl = url;
            Function<Map<String, Object>, Map<String, Object>> info = request -> Map.of("url", consoleUrl,
                    "clients", hub.clients());
            registration = ctx.registerService(Function.class.getName(), info, props);
            LOG.info("Console at " + url);
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
                    ? e.getCause() : e;
            LOG.log(Level.SEVERE, "Console not started: " + cause.getMessage(), cause);
            closeQuietly(v);
            vertx = null;
        }
    }

    private static String urlHost(String host) {
        if (host.equals("0.0.0.0") || host.equals("::")) {
            return "localhost";
        }
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static void bundleChanged(BundleActions actions, EventHub hub, BundleEvent e) {
        actions.bundleChanged(e);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.getBundle().getBundleId());
        m.put("symbolicName", e.getBundle().getSymbolicName());
        m.put("type", switch (e.getType()) {
            case BundleEvent.INSTALLED -> "installed";
            case BundleEvent.RESOLVED -> "resolved";
            case BundleEvent.STARTED -> "started";
            case BundleEvent.STOPPED -> "stopped";
            case BundleEvent.UPDATED -> "updated";
            case BundleEvent.UNRESOLVED -> "unresolved";
            case BundleEvent.UNINSTALLED -> "uninstalled";
            case BundleEvent.STARTING -> "starting";
            case BundleEvent.STOPPING -> "stopping";
            default -> "changed";
        });
        hub.publish("bundle", m);
    }

    /** Watches every job event of the job service, whenever one is registered. */
    private ServiceTracker<Object, Runnable> watchJobs(EventHub hub) throws InvalidSyntaxException {
        Filter filter = ctx.createFilter("(&(objectClass=" + Function.class.getName() + ")(cornerstone.service=jobs))");
        ServiceTracker<Object, Runnable> t = new ServiceTracker<>(ctx, filter, null) {
            @Override
            @SuppressWarnings("unchecked")
            public Runnable addingService(ServiceReference<Object> ref) {
                var jobs = (Function<Map<String, Object>, Map<String, Object>>) ctx.getService(ref);
                if (jobs == null) {
                    return null;
                }
                Consumer<Map<String, Object>> listener = event -> {
                    Map<String, Object> m = new LinkedHashMap<>(event);
                    m.put("t_ms", System.currentTimeMillis());
                    hub.publish("job", m);
                };
                try {
                    return (Runnable) jobs.apply(Map.of("command", "watch", "listener", listener)).get("close");
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Console cannot watch jobs: " + e.getMessage(), e);
                    ctx.ungetService(ref);
                    return null;
                }
            }

            @Override
            public void removedService(ServiceReference<Object> ref, Runnable close) {
                close.run();
                ctx.ungetService(ref);
            }
        };
        t.open();
        return t;
    }

    /**
     * Pushes the cluster's changes as they happen, from the bundle repository's watch (Hazelcast
     * membership and entry listeners on the node registry and the repository, on a node that
     * has joined a cluster): {@code member} and {@code node} events become {@code nodes}
     * events, {@code repository} and {@code status} events {@code repository} events. While it
     * runs the console does not poll the membership.
     */
    private ServiceTracker<Object, Runnable> watchCluster(EventHub hub, ClusterView cluster)
            throws InvalidSyntaxException {
        Filter filter = ctx.createFilter("(&(objectClass=" + Function.class.getName()
                + ")(cornerstone.service=repository))");
        ServiceTracker<Object, Runnable> t = new ServiceTracker<>(ctx, filter, null) {
            @Override
            @SuppressWarnings("unchecked")
            public Runnable addingService(ServiceReference<Object> ref) {
                var repository = (Function<Map<String, Object>, Map<String, Object>>) ctx.getService(ref);
                if (repository == null) {
                    return null;
                }
                Consumer<Map<String, Object>> listener = event -> {
                    Object type = event.get("type");
                    hub.publish("member".equals(type) || "node".equals(type) ? "nodes" : "repository",
                            new LinkedHashMap<>(event));
                };
                try {
                    Runnable close = (Runnable) repository.apply(Map.of("command", "watch", "listener", listener))
                            .get("close");
                    cluster.pushed(true);
                    hub.publish("nodes", Map.of("type", "cluster", "action", "watching", "t_ms",
                            System.currentTimeMillis()));
                    return close;
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Console cannot watch the cluster: " + e.getMessage(), e);
                    ctx.ungetService(ref);
                    return null;
                }
            }

            @Override
            public void removedService(ServiceReference<Object> ref, Runnable close) {
                close.run();
                cluster.pushed(false);
                hub.publish("nodes", Map.of("type", "cluster", "action", "unwatched", "t_ms",
                        System.currentTimeMillis()));
                try {
                    ctx.ungetService(ref);
                } catch (IllegalStateException e) {
                    // the console's bundle is stopping
                }
            }
        };
        t.open();
        return t;
    }

    private void stop() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
            registration = null;
        }
        if (bundleListener != null) {
            try {
                ctx.removeBundleListener(bundleListener);
            } catch (IllegalStateException e) {
                // the bundle context is no longer valid
            }
            bundleListener = null;
        }
        if (jobWatch != null) {
            jobWatch.close();
            jobWatch = null;
        }
        if (clusterWatch != null) {
            clusterWatch.close();
            clusterWatch = null;
        }
        if (clusterJobs != null) {
            clusterJobs.stop();
            clusterJobs = null;
        }
        if (vertx != null) {
            closeQuietly(vertx);
            LOG.info("Console at " + url + " stopped");
            vertx = null;
        }
        events = null;
    }

    private static void closeQuietly(Vertx v) {
        try {
            v.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "Console: Vert.x did not close cleanly: " + e.getMessage(), e);
        }
    }
}
