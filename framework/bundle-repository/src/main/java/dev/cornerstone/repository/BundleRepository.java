package dev.cornerstone.repository;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import dev.cornerstone.core.config.Json;

/**
 * The cluster's bundle repository. Active only on a node that has joined a cluster: it needs
 * the {@link HazelcastInstance} the cluster bundle registers then, and the launcher's node
 * service. A jar stored here (bytes, symbolic name, version, SHA-256, uploader, time) is
 * installed by every node into its own {@code deploy/}, a node that joins later included;
 * each node reports its result; removing it uninstalls it everywhere.
 *
 * <p>State in Hazelcast, JSON strings and bytes only: {@value #ENTRIES} (symbolic name →
 * {@link RepositoryEntry}), {@value #JARS} (symbolic name → jar bytes, written before the
 * entry), {@value #STATUS} ({@code NODE|SYMBOLIC-NAME} → that node's state, problem,
 * version).
 *
 * <p>It registers a {@code Function<Map, Map>} with {@code cornerstone.service=repository}
 * (JDK types only, so the console needs neither this bundle's nor Hazelcast's classes):
 *
 * <pre>
 * {command: list}                                   {bundles: [entry + nodes: [status]], members: [node ids]}
 * {command: put, path, name?, uploader?, wait_ms?}  checks and stores a jar; waits for every member's result
 * {command: remove, name, wait_ms?}                 removes an entry (symbolic name or file name)
 * {command: watch, listener: Consumer&lt;Map&gt;}         cluster events, pushed: {close: Runnable}
 * </pre>
 *
 * Watch events ({@code type}): {@code member} (joined, left: Hazelcast membership),
 * {@code node} (a node registry entry added, updated, removed), {@code repository} (an entry
 * added, updated, removed), {@code status} (a node's result changed). A refusal comes back as
 * {@code {error, status}} (400 not a bundle, 404 not in the repository, 413 too large).
 */
@Component(service = {}, immediate = true)
public final class BundleRepository {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.repository");
    static final String ENTRIES = "cornerstone.repository";
    static final String JARS = "cornerstone.repository.jars";
    static final String STATUS = "cornerstone.repository.status";
    /** The cluster bundle's node registry (see framework/cluster/README.md). */
    static final String NODES = "cornerstone.nodes";
    /** The member attribute under which vertx-hazelcast stores the Vert.x node id. */
    static final String VERTX_NODE_ID = "__vertx.nodeId";
    static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;

    private final HazelcastInstance hazelcast;
    private final Function<Map<String, Object>, Map<String, Object>> node;
    private final BundleContext ctx;
    private final String nodeId;
    private final long maxBytes;
    private final IMap<String, String> entries;
    private final IMap<String, byte[]> jars;
    private final IMap<String, String> status;
    private final IMap<String, String> nodes;
    private final NodeInstaller installer;
    private final ScheduledExecutorService worker;
    private final List<Consumer<Map<String, Object>>> watchers = new CopyOnWriteArrayList<>();
    private final List<Runnable> cleanup = new ArrayList<>();
    private final AtomicBoolean reconcilePending = new AtomicBoolean();
    private final AtomicBoolean reportPending = new AtomicBoolean();
    private ServiceRegistration<?> registration;

    @Activate
    public BundleRepository(BundleContext ctx, @Reference HazelcastInstance hazelcast,
                            @Reference(target = "(cornerstone.service=node)") Function<Map<String, Object>,
                                    Map<String, Object>> node) {
        this.ctx = ctx;
        this.hazelcast = hazelcast;
        this.node = node;
        this.nodeId = nodeId(ctx, hazelcast);
        this.maxBytes = maxBytes(ctx.getProperty("repository.max.bytes"));
        this.entries = hazelcast.getMap(ENTRIES);
        this.jars = hazelcast.getMap(JARS);
        this.status = hazelcast.getMap(STATUS);
        this.nodes = hazelcast.getMap(NODES);
        Path home = Path.of(required(ctx, "cornerstone.home"));
        String data = ctx.getProperty("cornerstone.data");
        this.installer = new NodeInstaller(nodeId, home, data == null ? home.resolve("data") : Path.of(data), node,
                entries, jars, status);
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cornerstone-repository");
            t.setDaemon(true);
            return t;
        });
        listen();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("cornerstone.service", "repository");
        props.put("cluster.node.id", nodeId);
        props.put("repository.max.bytes", maxBytes);
        registration = ctx.registerService(Function.class.getName(),
                (Function<Map<String, Object>, Map<String, Object>>) this::apply, props);
        reconcileSoon();
        LOG.info("Cluster bundle repository ready on node " + nodeId + " (" + entries.size() + " bundles)");
    }

    private static String required(BundleContext ctx, String key) {
        String v = ctx.getProperty(key);
        if (v == null) {
            throw new IllegalStateException("framework property " + key + " is not set: the bundle repository runs "
                    + "in a node started by bin/cornerstone");
        }
        return v;
    }

    static long maxBytes(String v) {
        if (v == null || v.isBlank()) {
            return DEFAULT_MAX_BYTES;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        LOG.severe("repository.max.bytes: '" + v + "' is not a positive number of bytes; using " + DEFAULT_MAX_BYTES);
        return DEFAULT_MAX_BYTES;
    }

    private static String nodeId(BundleContext ctx, HazelcastInstance hz) {
        ServiceReference<HazelcastInstance> ref = ctx.getServiceReference(HazelcastInstance.class);
        Object id = ref == null ? null : ref.getProperty("cluster.node.id");
        if (id == null) {
            id = hz.getCluster().getLocalMember().getAttribute(VERTX_NODE_ID);
        }
        return id != null ? String.valueOf(id) : hz.getCluster().getLocalMember().getUuid().toString();
    }

    // ---- listeners -------------------------------------------------------------------------

    private void listen() {
        UUID m = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                emit(memberEvent("joined", e.getMember()));
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                emit(memberEvent("left", e.getMember()));
                String id = e.getMember().getAttribute(VERTX_NODE_ID);
                if (id != null) {
                    worker.execute(() -> forgetNode(id));
                }
            }
        });
        cleanup.add(() -> hazelcast.getCluster().removeMembershipListener(m));
        UUID e = entries.addEntryListener(new Changes<String>("repository", true), true);
        cleanup.add(() -> entries.removeEntryListener(e));
        UUID s = status.addEntryListener(new Changes<String>("status", false), true);
        cleanup.add(() -> status.removeEntryListener(s));
        UUID n = nodes.addEntryListener(new Changes<String>("node", false), false);
        cleanup.add(() -> nodes.removeEntryListener(n));
        BundleListener bl = ev -> {
            if (ev.getType() != BundleEvent.STARTING && ev.getType() != BundleEvent.STOPPING) {
                reportSoon();
            }
        };
        ctx.addBundleListener(bl);
        cleanup.add(() -> ctx.removeBundleListener(bl));
    }

    /** Entry events of one map, passed on to the watchers; repository changes also reconcile this node. */
    private final class Changes<V> implements EntryAddedListener<String, V>, EntryUpdatedListener<String, V>,
            EntryRemovedListener<String, V> {
        private final String type;
        private final boolean reconcile;

        Changes(String type, boolean reconcile) {
            this.type = type;
            this.reconcile = reconcile;
        }

        @Override
        public void entryAdded(EntryEvent<String, V> e) {
            changed("added", e);
        }

        @Override
        public void entryUpdated(EntryEvent<String, V> e) {
            changed("updated", e);
        }

        @Override
        public void entryRemoved(EntryEvent<String, V> e) {
            changed("removed", e);
        }

        private void changed(String action, EntryEvent<String, V> e) {
            if (reconcile) {
                reconcileSoon();
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", type);
            m.put("action", action);
            m.put("key", e.getKey());
            Object value = e.getValue() != null ? e.getValue() : e.getOldValue();
            if (value instanceof String json && !type.equals("node")) {
                try {
                    if (Json.read(json, type) instanceof Map<?, ?> v) {
                        v.forEach((k, x) -> m.putIfAbsent(String.valueOf(k), x));
                    }
                } catch (RuntimeException ex) {
                    // not JSON: the event still says what changed
                }
            }
            emit(m);
        }
    }

    private static Map<String, Object> memberEvent(String action, Member member) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "member");
        m.put("action", action);
        m.put("node", member.getAttribute(VERTX_NODE_ID));
        m.put("address", member.getAddress().getHost() + ":" + member.getAddress().getPort());
        return m;
    }

    private void emit(Map<String, Object> event) {
        event.put("t_ms", System.currentTimeMillis());
        for (Consumer<Map<String, Object>> w : watchers) {
            try {
                w.accept(event);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "A repository watcher failed: " + e.getMessage(), e);
            }
        }
    }

    /** Drops the results of a node that left (any node may do it; deleting twice is harmless). */
    private void forgetNode(String id) {
        try {
            for (String k : status.keySet()) {
                if (k.startsWith(id + "|")) {
                    status.delete(k);
                }
            }
        } catch (RuntimeException e) {
            LOG.fine(() -> "results of node " + id + " not removed: " + e.getMessage());
        }
    }

    private void reconcileSoon() {
        if (reconcilePending.compareAndSet(false, true)) {
            worker.schedule(() -> {
                reconcilePending.set(false);
                try {
                    installer.reconcile();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Cannot bring deploy/ in line with the cluster's bundle repository: "
                            + e.getMessage(), e);
                }
            }, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void reportSoon() {
        if (reportPending.compareAndSet(false, true)) {
            worker.schedule(() -> {
                reportPending.set(false);
                try {
                    installer.reportAll();
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "repository states not reported: " + e.getMessage(), e);
                }
            }, 500, TimeUnit.MILLISECONDS);
        }
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // gone with the bundle
            }
        }
        watchers.clear();
        for (Runnable r : cleanup) {
            try {
                r.run();
            } catch (RuntimeException e) {
                // Hazelcast or the bundle context is already down
            }
        }
        worker.shutdownNow();
    }

    // ---- the service -----------------------------------------------------------------------

    Map<String, Object> apply(Map<String, Object> request) {
        String command = String.valueOf(request.get("command"));
        try {
            return switch (command) {
                case "list" -> list();
                case "put" -> put(request);
                case "remove" -> remove(request);
                case "watch" -> watch(request);
                default -> throw new IllegalArgumentException("unknown repository command '" + command
                        + "' (list, put, remove, watch)");
            };
        } catch (BundleJar.Refused e) {
            return Map.of("error", e.getMessage(), "status", e.status);
        }
    }

    private Map<String, Object> watch(Map<String, Object> request) {
        if (!(request.get("listener") instanceof Consumer<?> c)) {
            throw new IllegalArgumentException("'listener' (a java.util.function.Consumer<Map>) is required");
        }
        @SuppressWarnings("unchecked")
        Consumer<Map<String, Object>> listener = (Consumer<Map<String, Object>>) c;
        watchers.add(listener);
        Runnable close = () -> watchers.remove(listener);
        return Map.of("close", close);
    }

    private Map<String, Object> put(Map<String, Object> request) {
        if (!(request.get("path") instanceof String path) || path.isBlank()) {
            throw new IllegalArgumentException("'path' (the jar to store) is required");
        }
        String name = request.get("name") instanceof String n && !n.isBlank() ? n : Path.of(path).getFileName()
                .toString();
        BundleJar jar = BundleJar.read(Path.of(path), name, maxBytes);
        String uploader = request.get("uploader") instanceof String u && !u.isBlank() ? u : "unknown";
        RepositoryEntry entry = new RepositoryEntry(jar.symbolicName(), jar.version(), jar.sha256(),
                jar.bytes().length, jar.fileName(name), uploader, Instant.now().toString(), nodeId);
        RepositoryEntry previous = current(jar.symbolicName());
        // The bytes first: a node that sees the entry finds its jar.
        jars.set(jar.symbolicName(), jar.bytes());
        entries.set(jar.symbolicName(), Json.write(entry.toMap(), false));
        LOG.info("Stored " + entry.symbolicName() + " " + entry.version() + " (" + entry.size() + " bytes, sha-256 "
                + entry.sha256() + ") in the cluster's bundle repository for " + uploader);
        long wait = waitMillis(request);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", previous == null ? "stored" : "replaced");
        m.putAll(withNodes(entry, awaitResults(entry, wait)));
        return m;
    }

    private Map<String, Object> remove(Map<String, Object> request) {
        if (!(request.get("name") instanceof String name) || name.isBlank()) {
            throw new IllegalArgumentException("'name' (a symbolic name or file name in the repository) is required");
        }
        RepositoryEntry entry = current(name);
        if (entry == null) {
            for (String k : entries.keySet()) {
                RepositoryEntry e = current(k);
                if (e != null && name.equals(e.file())) {
                    entry = e;
                }
            }
        }
        if (entry == null) {
            throw new BundleJar.Refused(404, "no bundle '" + name + "' in the cluster's bundle repository (it holds: "
                    + (entries.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(entries.keySet()))) + ")");
        }
        entries.delete(entry.symbolicName());
        jars.delete(entry.symbolicName());
        LOG.info("Removed " + entry.symbolicName() + " from the cluster's bundle repository");
        long deadline = System.currentTimeMillis() + waitMillis(request);
        List<Map<String, Object>> left = results(entry.symbolicName());
        while (!left.isEmpty() && System.currentTimeMillis() < deadline) {
            sleep();
            left = results(entry.symbolicName());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", "removed");
        m.put("entry", entry.toMap());
        m.put("pending", left);
        return m;
    }

    private Map<String, Object> list() {
        List<Object> bundles = new ArrayList<>();
        List<RepositoryEntry> all = new ArrayList<>();
        for (String k : entries.keySet()) {
            RepositoryEntry e = current(k);
            if (e != null) {
                all.add(e);
            }
        }
        all.sort(Comparator.comparing(RepositoryEntry::symbolicName));
        for (RepositoryEntry e : all) {
            bundles.add(withNodes(e, results(e.symbolicName())));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bundles", bundles);
        m.put("members", new ArrayList<>(memberIds()));
        m.put("nodeId", nodeId);
        m.put("max_bytes", maxBytes);
        return m;
    }

    private Map<String, Object> withNodes(RepositoryEntry e, List<Map<String, Object>> results) {
        Map<String, Object> m = new LinkedHashMap<>(e.toMap());
        List<Map<String, Object>> nodesOut = new ArrayList<>(results);
        Set<String> reported = new HashSet<>();
        for (Map<String, Object> r : results) {
            reported.add(String.valueOf(r.get("node")));
        }
        for (String id : memberIds()) {
            if (!reported.contains(id)) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("node", id);
                p.put("state", "PENDING");
                nodesOut.add(p);
            }
        }
        nodesOut.sort(Comparator.comparing(x -> String.valueOf(x.get("node"))));
        m.put("nodes", nodesOut);
        return m;
    }

    /** Polls the members' results until each has settled on this jar, or the wait is over. */
    private List<Map<String, Object>> awaitResults(RepositoryEntry e, long waitMillis) {
        long deadline = System.currentTimeMillis() + waitMillis;
        while (true) {
            List<Map<String, Object>> r = results(e.symbolicName());
            Set<String> settled = new HashSet<>();
            for (Map<String, Object> s : r) {
                if (e.sha256().equals(s.get("sha256")) && settled(s)) {
                    settled.add(String.valueOf(s.get("node")));
                }
            }
            if (settled.containsAll(memberIds()) || System.currentTimeMillis() >= deadline) {
                return r;
            }
            sleep();
        }
    }

    private static boolean settled(Map<String, Object> s) {
        Object state = s.get("state");
        return "ACTIVE".equals(state) || "FAILED".equals(state) || s.get("problem") != null;
    }

    /** The results of current members for one bundle. */
    private List<Map<String, Object>> results(String symbolicName) {
        Set<String> members = memberIds();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String id : members) {
            String json = status.get(NodeInstaller.statusKey(id, symbolicName));
            if (json != null && Json.read(json, "repository status") instanceof Map<?, ?> v) {
                Map<String, Object> m = new LinkedHashMap<>();
                v.forEach((k, x) -> m.put(String.valueOf(k), x));
                out.add(m);
            }
        }
        return out;
    }

    private RepositoryEntry current(String symbolicName) {
        String json = entries.get(symbolicName);
        return json == null ? null : RepositoryEntry.fromMap((Map<?, ?>) Json.read(json, "repository entry "
                + symbolicName));
    }

    private Set<String> memberIds() {
        Set<String> ids = new java.util.TreeSet<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            String id = m.getAttribute(VERTX_NODE_ID);
            ids.add(id != null ? id : m.getUuid().toString());
        }
        return ids;
    }

    private static long waitMillis(Map<String, Object> request) {
        long w = request.get("wait_ms") instanceof Number n ? n.longValue() : 0;
        return Math.max(0, Math.min(w, 600_000));
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the nodes' results", e);
        }
    }
}
