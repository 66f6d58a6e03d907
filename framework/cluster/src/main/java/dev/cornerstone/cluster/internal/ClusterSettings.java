package dev.cornerstone.cluster.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import dev.cornerstone.cluster.collective.CollectiveOptions;

/**
 * The cluster configuration of a node, read from framework properties: the launcher passes
 * every key of {@code conf/cornerstone.properties} (except {@code api.*}) as one, and
 * {@code cornerstone node --cluster / --join / --cluster-name} set {@code cluster.enabled},
 * {@code cluster.join} and {@code cluster.name}. Only a node ({@code cornerstone.role=node})
 * ever clusters: the commands that boot a container for one job never do.
 *
 * @param enabled          whether this container joins a cluster
 * @param name             cluster name; nodes of another name are refused
 * @param members          TCP-IP member list: {@code HOST} or {@code HOST:PORT}
 * @param joinRequested    whether {@code members} came from {@code --join}: then a node that
 *                         finds nobody there (and is not that address itself) fails instead of
 *                         forming a cluster of its own
 * @param interfaces       addresses Hazelcast may bind to (wildcards as {@code 10.0.*.*})
 * @param port             first Hazelcast port; the next one is tried while taken
 * @param portCount        how many ports from {@code port} on may be tried
 * @param eventBusPort     event-bus server port; 0 is any free port
 * @param joinWaitSeconds  Hazelcast's wait before joining
 * @param heartbeatTimeoutSeconds a member silent this long is removed
 * @param mergeDelaySeconds how often the oldest member of each side of a split looks for the other side
 *                         (and first this long after start): the halves of a healed split merge within it
 * @param collective       defaults of communicators
 */
public record ClusterSettings(boolean enabled, String name, List<String> members, boolean joinRequested,
                              List<String> interfaces, int port, int portCount, int eventBusPort, int joinWaitSeconds,
                              int heartbeatTimeoutSeconds, int mergeDelaySeconds, CollectiveOptions collective) {

    static final String SOURCE = "conf/cornerstone.properties";

    /** Reads the settings; {@code property} returns null for a key that is not set. */
    public static ClusterSettings from(Function<String, String> property) {
        boolean node = "node".equals(property.apply("cornerstone.role"));
        String join = trimmed(property.apply("cluster.join"));
        boolean configured = bool(property, "cluster.enabled", false);
        boolean enabled = node && (configured || join != null);
        String name = or(trimmed(property.apply("cluster.name")), "cornerstone");
        if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException(SOURCE + ": cluster.name=" + name + " must be 1 to 64 letters, digits, "
                    + "'_', '.' or '-'");
        }
        List<String> members = join != null ? members("--join / cluster.join", join)
                : members("cluster.members", or(trimmed(property.apply("cluster.members")), "127.0.0.1"));
        List<String> interfaces = list(or(trimmed(property.apply("cluster.interfaces")), "127.0.0.1"));
        if (interfaces.isEmpty()) {
            throw new IllegalArgumentException(SOURCE + ": cluster.interfaces is empty; name at least one address");
        }
        int port = integer(property, "cluster.port", 5701, 1, 65535);
        int portCount = integer(property, "cluster.port.count", 100, 1, 1000);
        int eventBusPort = integer(property, "cluster.eventbus.port", 0, 0, 65535);
        int joinWait = integer(property, "cluster.join.wait.seconds", 2, 0, 300);
        int heartbeat = integer(property, "cluster.heartbeat.timeout.seconds", 15, 2, 3600);
        int merge = integer(property, "cluster.merge.delay.seconds", 120, 1, 3600);
        int timeout = integer(property, "cluster.collective.timeout.seconds", 60, 1, 86_400);
        int connect = integer(property, "cluster.collective.connect.timeout.seconds", 60, 1, 86_400);
        String transport = or(trimmed(property.apply("cluster.collective.transport")), "socket");
        CollectiveOptions.Transport t = CollectiveOptions.Transport.ofConfigName(transport);
        if (t == null) {
            throw new IllegalArgumentException(SOURCE + ": cluster.collective.transport=" + transport
                    + " must be socket, shm, stream or eventbus");
        }
        int chunk = integer(property, "cluster.collective.chunk.bytes", CollectiveOptions.defaultChunkBytes(t), 4,
                256 << 20);
        if (chunk % 4 != 0) {
            throw new IllegalArgumentException(SOURCE + ": cluster.collective.chunk.bytes=" + chunk
                    + " must be a multiple of 4 (whole floats)");
        }
        CollectiveOptions collective = new CollectiveOptions(Duration.ofSeconds(timeout), Duration.ofSeconds(connect),
                chunk, 0, t);
        return new ClusterSettings(enabled, name, members, join != null, interfaces, port, portCount, eventBusPort,
                joinWait, heartbeat, merge, collective);
    }

    /** Checks {@code HOST} / {@code HOST:PORT} entries (Hazelcast rejects port ranges when interfaces are on). */
    static List<String> members(String key, String value) {
        List<String> out = new ArrayList<>();
        for (String m : list(value)) {
            int colon = m.lastIndexOf(':');
            String host = colon < 0 ? m : m.substring(0, colon);
            if (host.isEmpty() || host.contains("*")) {
                throw new IllegalArgumentException(key + ": '" + m + "' is not HOST or HOST:PORT");
            }
            if (colon >= 0) {
                String p = m.substring(colon + 1);
                if (p.contains("-")) {
                    throw new IllegalArgumentException(key + ": '" + m + "' names a port range; give HOST (ports from "
                            + "cluster.port on are tried) or one HOST:PORT per member");
                }
                try {
                    int port = Integer.parseInt(p);
                    if (port < 1 || port > 65535) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(key + ": '" + m + "' has no valid port (1..65535) after ':'");
                }
            }
            out.add(m);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(key + " is empty; name at least one HOST or HOST:PORT");
        }
        return List.copyOf(out);
    }

    private static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    private static String trimmed(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static String or(String s, String def) {
        return s == null ? def : s;
    }

    private static boolean bool(Function<String, String> property, String key, boolean def) {
        String v = trimmed(property.apply(key));
        if (v == null) {
            return def;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(SOURCE + ": " + key + "=" + v + " must be true or false");
    }

    private static int integer(Function<String, String> property, String key, int def, int min, int max) {
        String v = trimmed(property.apply(key));
        if (v == null) {
            return def;
        }
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(SOURCE + ": " + key + "=" + v + " must be a whole number in " + min + ".."
                + max);
    }
}
