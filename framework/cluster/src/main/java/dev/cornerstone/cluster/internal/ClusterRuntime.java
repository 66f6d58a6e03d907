package dev.cornerstone.cluster.internal;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import dev.cornerstone.cluster.ClusterNode;
import dev.cornerstone.cluster.NodeInfo;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.internal.ring.RingCommunicator;
import dev.cornerstone.core.config.Json;

/**
 * A node in a cluster: a Hazelcast member, a clustered Vert.x on it (Hazelcast cluster
 * manager), and this node's entry in the node registry, kept up to date as bundles and
 * backends come and go. Membership: a member that leaves has its entry removed and every
 * ring with a rank on it fails at once.
 */
public final class ClusterRuntime implements ClusterNode, AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster");
    /**
     * Hazelcast warns at every start that its CP subsystem (linearizable locks and counters)
     * is off. Cornerstone uses neither: shared state is maps of JSON, and a job's writers are
     * fenced by its generation (see the README). Held here so the level sticks.
     */
    private static final Logger CP_SUBSYSTEM = quiet("com.hazelcast.cp.CPSubsystem");

    private static Logger quiet(String name) {
        Logger l = Logger.getLogger(name);
        l.setLevel(Level.SEVERE);
        return l;
    }
    /** The member attribute under which vertx-hazelcast stores the Vert.x node id. */
    static final String VERTX_NODE_ID = "__vertx.nodeId";

    private final ClusterSettings settings;
    private final Vertx vertx;
    private final HazelcastInstance hazelcast;
    private final String nodeId;
    private final String startedAt = Instant.now().toString();
    private final IMap<String, String> registry;
    private final Supplier<LocalFacts> facts;
    private final ScheduledExecutorService registryWriter;
    private final List<Ring> rings = new CopyOnWriteArrayList<>();
    private volatile String api;
    private ScheduledFuture<?> pendingRefresh;
    private final UUID membershipListener;

    /** What this node knows about itself that Hazelcast does not: backends and bundles. */
    public record LocalFacts(List<NodeInfo.Backend> backends, List<NodeInfo.BundleRef> bundles) {
    }

    private record Ring(RingCommunicator communicator, List<String> rankNodes) {
    }

    private ClusterRuntime(ClusterSettings settings, Vertx vertx, HazelcastInstance hazelcast, String nodeId,
                           Supplier<LocalFacts> facts) {
        this.settings = settings;
        this.vertx = vertx;
        this.hazelcast = hazelcast;
        this.nodeId = nodeId;
        this.facts = facts;
        this.registry = hazelcast.getMap(HazelcastConfigs.NODES_MAP);
        this.registryWriter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cornerstone-cluster-registry");
            t.setDaemon(true);
            return t;
        });
        this.membershipListener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                LOG.info("Cluster '" + settings.name() + "': member " + describe(e.getMember()) + " joined ("
                        + e.getMembers().size() + " members)");
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                memberLeft(e.getMember(), e.getMembers().size());
            }
        });
        hazelcast.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                LOG.info("Cluster '" + settings.name() + "': merged after a split; republishing this node");
                refreshSoon();
            }
        });
    }

    /**
     * Starts Hazelcast and a clustered Vert.x on it, joins, publishes this node. Blocks until
     * done; fails when {@code --join} named members of which none answered.
     */
    public static ClusterRuntime start(ClusterSettings s, Supplier<LocalFacts> facts) throws Exception {
        ClassLoader loader = HazelcastClusterManager.class.getClassLoader();
        Config config = HazelcastConfigs.build(s, loader);
        HazelcastClusterManager manager = new HazelcastClusterManager(config);
        VertxOptions options = new VertxOptions().setEventBusOptions(new EventBusOptions().setPort(s.eventBusPort()));
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        current.setContextClassLoader(loader); // Hazelcast resolves some of its services through it
        Vertx vertx;
        try {
            vertx = Vertx.builder().with(options).withClusterManager(manager).buildClustered()
                    .toCompletionStage().toCompletableFuture().get(3, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot start a clustered Vert.x on Hazelcast (cluster '" + s.name()
                    + "', members " + s.members() + ", interfaces " + s.interfaces() + "): " + cause, cause);
        } finally {
            current.setContextClassLoader(previous);
        }
        HazelcastInstance hz = manager.getHazelcastInstance();
        ClusterRuntime runtime;
        try {
            checkJoined(s, hz);
            runtime = new ClusterRuntime(s, vertx, hz, manager.getNodeId(), facts);
            runtime.publish();
        } catch (RuntimeException e) {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw e;
        }
        Member local = hz.getCluster().getLocalMember();
        LOG.info("Joined cluster '" + s.name() + "' as " + local.getAddress().getHost() + ":"
                + local.getAddress().getPort() + " (node " + runtime.nodeId + ", event bus "
                + runtime.eventBusAddress() + "); " + hz.getCluster().getMembers().size() + " members");
        return runtime;
    }

    /**
     * {@code --join} names where the cluster is: finding nobody there is an error, unless
     * the address is this node's own (the first node of a cluster started like the others).
     */
    private static void checkJoined(ClusterSettings s, HazelcastInstance hz) {
        if (!s.joinRequested() || hz.getCluster().getMembers().size() > 1) {
            return;
        }
        Member local = hz.getCluster().getLocalMember();
        for (String m : s.members()) {
            int colon = m.lastIndexOf(':');
            String host = colon < 0 ? m : m.substring(0, colon);
            int port = colon < 0 ? -1 : Integer.parseInt(m.substring(colon + 1));
            boolean sameHost;
            try {
                sameHost = InetAddress.getByName(host).equals(local.getAddress().getInetAddress());
            } catch (UnknownHostException e) {
                sameHost = false;
            }
            int localPort = local.getAddress().getPort();
            if (sameHost && (port == localPort || (port < 0 && localPort >= s.port() && localPort < s.port() + 3))) {
                return; // it named itself: this node starts the cluster
            }
        }
        throw new IllegalStateException("could not join cluster '" + s.name() + "' at " + String.join(", ",
                s.members()) + ": no member answered (is a node of cluster '" + s.name() + "' running there, with "
                + "the same cluster.name?); this node would have formed a cluster of its own at "
                + local.getAddress().getHost() + ":" + local.getAddress().getPort());
    }

    // ---- registry --------------------------------------------------------------------------

    /** Writes this node's entry now (blocking). */
    private void publish() {
        registry.set(nodeId, Json.write(local().toMap(), false));
    }

    /** Re-publishes this node's entry shortly (bundle or backend changes come in bursts). */
    public synchronized void refreshSoon() {
        if (pendingRefresh != null && !pendingRefresh.isDone()) {
            return;
        }
        pendingRefresh = registryWriter.schedule(() -> {
            try {
                if (hazelcast.getLifecycleService().isRunning()) {
                    publish();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Cannot update this node's registry entry: " + e.getMessage(), e);
            }
        }, 300, TimeUnit.MILLISECONDS);
    }

    /** Records the node API's URI in the registry. */
    public void announceApi(String uri) {
        this.api = uri;
        refreshSoon();
    }

    private void memberLeft(Member m, int remaining) {
        String id = m.getAttribute(VERTX_NODE_ID);
        LOG.warning("Cluster '" + settings.name() + "': member " + describe(m) + " left (" + remaining
                + " members)");
        if (id == null) {
            return;
        }
        registryWriter.execute(() -> {
            try {
                registry.delete(id);
            } catch (RuntimeException e) {
                LOG.fine(() -> "registry entry of " + id + " not removed: " + e.getMessage());
            }
        });
        for (Ring r : rings) {
            if (r.communicator().isClosed()) {
                rings.remove(r);
                continue;
            }
            int rank = r.rankNodes().indexOf(id);
            if (rank >= 0) {
                r.communicator().peerLost(rank, "(node " + id + " at " + m.getAddress().getHost() + ":"
                        + m.getAddress().getPort() + ") left the cluster");
            }
        }
    }

    private static String describe(Member m) {
        String id = m.getAttribute(VERTX_NODE_ID);
        return m.getAddress().getHost() + ":" + m.getAddress().getPort() + (id == null ? "" : " (node " + id + ")");
    }

    // ---- ClusterNode ------------------------------------------------------------------------

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public String clusterName() {
        return settings.name();
    }

    @Override
    public Vertx vertx() {
        return vertx;
    }

    @Override
    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    public ClusterSettings settings() {
        return settings;
    }

    @Override
    public CollectiveOptions collectiveDefaults() {
        return settings.collective();
    }

    String eventBusAddress() {
        HazelcastClusterManager m = (HazelcastClusterManager) ((io.vertx.core.internal.VertxInternal) vertx)
                .clusterManager();
        io.vertx.core.spi.cluster.NodeInfo ni = m.getNodeInfo();
        return ni == null ? null : ni.host() + ":" + ni.port();
    }

    @Override
    public NodeInfo local() {
        Member me = hazelcast.getCluster().getLocalMember();
        LocalFacts f = facts.get();
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown";
        }
        return new NodeInfo(nodeId, settings.name(), me.getAddress().getHost() + ":" + me.getAddress().getPort(),
                eventBusAddress(), api, ProcessHandle.current().pid(), host, startedAt,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory(), physicalMemory(),
                f.backends(), f.bundles());
    }

    private static long physicalMemory() {
        try {
            Object v = ManagementFactory.getPlatformMBeanServer().getAttribute(
                    new javax.management.ObjectName("java.lang:type=OperatingSystem"), "TotalMemorySize");
            return v instanceof Number n ? n.longValue() : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    @Override
    public List<NodeInfo> members() {
        Set<String> current = new HashSet<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            String id = m.getAttribute(VERTX_NODE_ID);
            if (id != null) {
                current.add(id);
            }
        }
        List<NodeInfo> out = new ArrayList<>();
        for (Map.Entry<String, String> e : registry.entrySet()) {
            if (!current.contains(e.getKey())) {
                continue; // left, entry not yet removed
            }
            Object parsed = Json.read(e.getValue(), "node registry entry " + e.getKey());
            out.add(NodeInfo.fromMap((Map<?, ?>) parsed));
        }
        out.sort(Comparator.comparing(NodeInfo::startedAt).thenComparing(NodeInfo::id));
        return out;
    }

    /** Node ids of the current members. */
    Set<String> memberIds() {
        Set<String> ids = new HashSet<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            String id = m.getAttribute(VERTX_NODE_ID);
            if (id != null) {
                ids.add(id);
            }
        }
        return ids;
    }

    @Override
    public CompletableFuture<Communicator> communicator(String job, int rank, List<String> rankNodes,
                                                        CollectiveOptions options) {
        List<String> nodes = List.copyOf(rankNodes);
        if (rank < 0 || rank >= nodes.size()) {
            throw new IllegalArgumentException("rank " + rank + " is not in a world of " + nodes.size());
        }
        if (!nodeId.equals(nodes.get(rank))) {
            throw new IllegalArgumentException("rank " + rank + " of job '" + job + "' belongs to node "
                    + nodes.get(rank) + ", not to this node " + nodeId);
        }
        Set<String> ids = memberIds();
        for (int r = 0; r < nodes.size(); r++) {
            if (!ids.contains(nodes.get(r))) {
                return CompletableFuture.failedFuture(new IllegalStateException("rank " + r + " of job '" + job
                        + "' is on node " + nodes.get(r) + ", which is not a member of cluster '" + settings.name()
                        + "'"));
            }
        }
        String eventBus = eventBusAddress();
        String host = eventBus == null ? hazelcast.getCluster().getLocalMember().getAddress().getHost()
                : eventBus.substring(0, eventBus.lastIndexOf(':'));
        return RingCommunicator.create(vertx, job, rank, nodes.size(), options, nodeId, host).thenApply(c -> {
            RingCommunicator ring = (RingCommunicator) c;
            rings.add(new Ring(ring, nodes));
            rings.removeIf(x -> x.communicator().isClosed());
            // A member may have left while the ring formed.
            Set<String> now = memberIds();
            for (int r = 0; r < nodes.size(); r++) {
                if (!now.contains(nodes.get(r))) {
                    ring.peerLost(r, "(node " + nodes.get(r) + ") left the cluster");
                }
            }
            return c;
        });
    }

    /** Leaves the cluster: Vert.x first, which shuts Hazelcast down after it. */
    @Override
    public void close() throws Exception {
        for (Ring r : rings) {
            r.communicator().close();
        }
        try {
            hazelcast.getCluster().removeMembershipListener(membershipListener);
        } catch (RuntimeException e) {
            // already shut down
        }
        registryWriter.shutdownNow();
        try {
            registry.delete(nodeId);
        } catch (RuntimeException e) {
            LOG.fine(() -> "registry entry not removed on leaving: " + e.getMessage());
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        LOG.info("Left cluster '" + settings.name() + "'");
    }

}
