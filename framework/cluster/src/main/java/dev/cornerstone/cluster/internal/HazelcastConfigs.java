package dev.cornerstone.cluster.internal;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;

/** The Hazelcast configuration of a node, built in code from {@link ClusterSettings}. */
public final class HazelcastConfigs {

    /** The node registry: node id to a JSON {@link dev.cornerstone.cluster.NodeInfo}. */
    public static final String NODES_MAP = "cornerstone.nodes";
    /** Cluster jobs: job id to the job's JSON entry ({@link ClusterJobs}). */
    public static final String JOBS_MAP = "cornerstone.jobs";
    /** Cluster jobs' logged steps: {@code JOB#STEP} to the point's JSON ({@link ClusterJobs}). */
    public static final String POINTS_MAP = "cornerstone.job.points";

    private HazelcastConfigs() {
    }

    /**
     * {@code classLoader} must see every type stored in Hazelcast: inside OSGi that of the
     * vertx-hazelcast bundle (its registration and node-info types), or event-bus messages
     * between nodes fail with ClassNotFoundException.
     */
    public static Config build(ClusterSettings s, ClassLoader classLoader) {
        Config c = new Config();
        c.setClusterName(s.name());
        c.setClassLoader(classLoader);

        NetworkConfig net = c.getNetworkConfig();
        net.setPort(s.port()).setPortAutoIncrement(true).setPortCount(s.portCount());
        net.getInterfaces().setEnabled(true).setInterfaces(s.interfaces());
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(s.members());

        // Bind only to the chosen interfaces (loopback by default), never report home, log
        // through java.util.logging like the rest of the node.
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "jdk");
        c.setProperty("hazelcast.shutdownhook.enabled", "false"); // the node's own hook stops Vert.x, then Hazelcast
        c.setProperty("hazelcast.graceful.shutdown.max.wait", "10");
        // Nothing reads Hazelcast's own metrics (no Management Center is attached), and collecting
        // them every 5 s costs every member CPU (and JIT work) that a training rank would have.
        c.getMetricsConfig().setEnabled(false);
        c.setProperty("hazelcast.wait.seconds.before.join", String.valueOf(s.joinWaitSeconds()));
        c.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(s.heartbeatTimeoutSeconds()));
        c.setProperty("hazelcast.heartbeat.interval.seconds",
                String.valueOf(Math.max(1, Math.min(5, s.heartbeatTimeoutSeconds() / 5))));
        // After a network split heals, the oldest member of the smaller side finds the larger
        // one within this delay and merges into it (Hazelcast's defaults: 300 s, then 120 s).
        c.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(s.mergeDelaySeconds()));
        c.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(s.mergeDelaySeconds()));

        // What Vert.x's default-cluster.xml declares for its own state.
        c.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
                .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
        c.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
        c.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
        // The node registry and cluster jobs: a copy on every member (one synchronous backup, the
        // rest asynchronous, up to Hazelcast's 6), so that any side of a split still sees its own
        // nodes and every job (and can tell that a job waits for a quorum), and losing all nodes
        // but one loses no job.
        c.addMapConfig(new MapConfig(NODES_MAP).setBackupCount(1).setAsyncBackupCount(5));
        c.addMapConfig(new MapConfig(JOBS_MAP).setBackupCount(1).setAsyncBackupCount(5));
        c.addMapConfig(new MapConfig(POINTS_MAP).setBackupCount(1).setAsyncBackupCount(5));
        return c;
    }
}
