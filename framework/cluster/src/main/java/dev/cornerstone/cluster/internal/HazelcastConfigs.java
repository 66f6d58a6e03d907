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
        c.setProperty("hazelcast.wait.seconds.before.join", String.valueOf(s.joinWaitSeconds()));
        c.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(s.heartbeatTimeoutSeconds()));
        c.setProperty("hazelcast.heartbeat.interval.seconds",
                String.valueOf(Math.max(1, Math.min(5, s.heartbeatTimeoutSeconds() / 5))));

        // What Vert.x's default-cluster.xml declares for its own state.
        c.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
                .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
        c.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
        c.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
        c.addMapConfig(new MapConfig(NODES_MAP).setBackupCount(1));
        return c;
    }
}
