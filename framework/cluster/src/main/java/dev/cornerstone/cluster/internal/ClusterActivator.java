package dev.cornerstone.cluster.internal;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.cluster.ClusterNode;
import dev.cornerstone.cluster.NodeInfo;

/**
 * Starts this node's cluster runtime when the node is configured to cluster (see
 * {@link ClusterSettings}), on a thread of its own so the container's start does not wait
 * for Hazelcast's join; then registers {@link ClusterNode}, {@link Vertx} and
 * {@link HazelcastInstance} services (properties {@code cluster.name}, {@code cluster.node.id}).
 * A failure to join is logged, shown by the cluster service and the node API, and leaves the
 * rest of the node running.
 */
public final class ClusterActivator implements BundleActivator {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster");

    private BundleContext context;
    private ClusterService service;
    private ServiceRegistration<?> serviceRegistration;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private ServiceTracker<ComputeBackend, ComputeBackend> backends;
    private BundleListener bundleListener;
    private Thread starter;
    private volatile ClusterRuntime runtime;
    private volatile ClusterJobs jobs;
    private ServiceTracker<Function, Function> jobService;
    private volatile boolean stopping;

    @Override
    public void start(BundleContext ctx) {
        this.context = ctx;
        ClusterSettings settings;
        try {
            settings = ClusterSettings.from(ctx::getProperty);
        } catch (IllegalArgumentException e) {
            // A bad configuration: said plainly, and the node keeps running without a cluster.
            settings = ClusterSettings.from(k -> k.equals("cornerstone.role") ? null : ctx.getProperty(k));
            service = new ClusterService(settings);
            service.failed(e.getMessage());
            register();
            LOG.severe("Cluster not started: " + e.getMessage());
            return;
        }
        service = new ClusterService(settings);
        register();
        if (!settings.enabled()) {
            return;
        }
        backends = new ServiceTracker<>(ctx, ComputeBackend.class, new ServiceTrackerCustomizer<>() {
            @Override
            public ComputeBackend addingService(ServiceReference<ComputeBackend> ref) {
                ComputeBackend b = ctx.getService(ref);
                refresh();
                return b;
            }

            @Override
            public void modifiedService(ServiceReference<ComputeBackend> ref, ComputeBackend b) {
                refresh();
            }

            @Override
            public void removedService(ServiceReference<ComputeBackend> ref, ComputeBackend b) {
                ctx.ungetService(ref);
                refresh();
            }
        });
        backends.open();
        bundleListener = e -> {
            if (e.getType() != BundleEvent.STARTING && e.getType() != BundleEvent.STOPPING) {
                refresh();
            }
        };
        ctx.addBundleListener(bundleListener);
        try {
            jobService = new ServiceTracker<>(ctx, ctx.createFilter("(&(objectClass=" + Function.class.getName()
                    + ")(cornerstone.service=jobs))"), null);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        jobService.open();
        ClusterSettings s = settings;
        starter = new Thread(() -> startRuntime(s), "cornerstone-cluster-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void register() {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("cornerstone.service", "cluster");
        serviceRegistration = context.registerService(Function.class.getName(), service, props);
    }

    private void startRuntime(ClusterSettings s) {
        LOG.info("Joining cluster '" + s.name() + "' (members " + String.join(", ", s.members()) + ", interfaces "
                + String.join(", ", s.interfaces()) + ")");
        ClusterRuntime r;
        try {
            r = ClusterRuntime.start(s, this::facts);
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            service.failed(message);
            LOG.log(Level.SEVERE, "Cluster '" + s.name() + "' not joined: " + message, e);
            return;
        }
        synchronized (this) {
            if (stopping) {
                closeQuietly(r);
                return;
            }
            runtime = r;
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("cluster.name", s.name());
            props.put("cluster.node.id", r.nodeId());
            registrations.add(context.registerService(ClusterNode.class, r, props));
            registrations.add(context.registerService(Vertx.class, r.vertx(), props));
            registrations.add(context.registerService(HazelcastInstance.class, r.hazelcast(), props));
            jobs = new ClusterJobs(r, this::jobService, context.getProperty("cluster.checkpoint.dir"),
                    (s.heartbeatTimeoutSeconds() + 5) * 1000L);
            service.joined(r, jobs);
        }
    }

    @SuppressWarnings("unchecked")
    private Function<Map<String, Object>, Map<String, Object>> jobService() {
        ServiceTracker<Function, Function> t = jobService;
        return t == null ? null : (Function<Map<String, Object>, Map<String, Object>>) t.getService();
    }

    private void refresh() {
        ClusterRuntime r = runtime;
        if (r != null) {
            r.refreshSoon();
        }
    }

    /** Backends and bundles of this node, for its registry entry. */
    private ClusterRuntime.LocalFacts facts() {
        List<NodeInfo.Backend> bs = new ArrayList<>();
        ServiceTracker<ComputeBackend, ComputeBackend> t = backends;
        if (t != null) {
            for (Map.Entry<ServiceReference<ComputeBackend>, ComputeBackend> e : t.getTracked().entrySet()) {
                Object name = e.getKey().getProperty("backend.name");
                String device;
                try {
                    device = e.getValue().device();
                } catch (RuntimeException ex) {
                    device = "unavailable: " + ex.getMessage();
                }
                bs.add(new NodeInfo.Backend(name == null ? e.getValue().name() : String.valueOf(name), device));
            }
        }
        bs.sort(java.util.Comparator.comparing(NodeInfo.Backend::name));
        List<NodeInfo.BundleRef> bundles = new ArrayList<>();
        BundleContext ctx = context;
        if (ctx != null) {
            try {
                for (Bundle b : ctx.getBundles()) {
                    bundles.add(new NodeInfo.BundleRef(b.getSymbolicName(), b.getVersion().toString(), state(b)));
                }
            } catch (IllegalStateException e) {
                // this bundle is stopping: its context is no longer valid
            }
        }
        return new ClusterRuntime.LocalFacts(bs, bundles);
    }

    private static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.ACTIVE -> "ACTIVE";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            default -> "UNINSTALLED";
        };
    }

    @Override
    public void stop(BundleContext ctx) throws Exception {
        ClusterRuntime r;
        ClusterJobs j;
        synchronized (this) {
            stopping = true;
            r = runtime;
            runtime = null;
            j = jobs;
            jobs = null;
        }
        if (j != null) {
            j.close();
        }
        if (jobService != null) {
            jobService.close();
        }
        if (bundleListener != null) {
            ctx.removeBundleListener(bundleListener);
        }
        for (ServiceRegistration<?> reg : registrations) {
            reg.unregister();
        }
        registrations.clear();
        if (r != null) {
            closeQuietly(r);
        }
        if (backends != null) {
            backends.close();
        }
        if (service != null) {
            service.stopped();
        }
        if (serviceRegistration != null) {
            serviceRegistration.unregister();
        }
        // A join in progress ends by itself (Hazelcast's join has its own timeouts) and sees 'stopping'.
    }

    private static void closeQuietly(ClusterRuntime r) {
        try {
            r.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "Leaving the cluster failed: " + e.getMessage(), e);
        }
    }
}
