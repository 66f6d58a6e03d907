package dev.cornerstone.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which nodes the console shows: this node always, and the other members of its cluster when
 * the cluster bundle ({@code dev.cornerstone.cluster}) runs here and the node has joined.
 *
 * <p>The seam is the cluster bundle's JDK-typed service ({@code Function<Map, Map>} with
 * {@code cornerstone.service=cluster}), not its classes, so the console neither needs the
 * cluster bundle to start nor breaks when it is updated. {@code {command: info}} answers
 * {@code enabled}, {@code state} (disabled, starting, joined, failed, stopped), {@code name},
 * {@code error}, {@code nodeId} and {@code members}: node registry entries with {@code id},
 * {@code hostName}, {@code api}, {@code pid}, {@code cores}, {@code maxHeapBytes},
 * {@code memoryBytes}, {@code startedAt}, {@code backends} ({@code name}, {@code device}) and
 * {@code bundles} ({@code symbolicName}, {@code version}, {@code state}).
 *
 * <p>Nodes joining and leaving are pushed: on a node that has joined a cluster the bundle
 * repository's watch (Hazelcast membership and node registry listeners) feeds {@code nodes}
 * events ({@link #pushed}). Until it runs (the node is still joining, or the join failed),
 * {@link #membership}, a short fingerprint of the state and members, is polled every few
 * seconds instead, so a change of state still reaches the page.
 */
final class ClusterView {

    private final NodeServices services;
    private volatile boolean pushed;

    ClusterView(NodeServices services) {
        this.services = services;
    }

    /** Whether the cluster's changes are pushed (the repository's watch runs), so polling is not needed. */
    boolean pushed() {
        return pushed;
    }

    void pushed(boolean on) {
        pushed = on;
    }

    /** {@code {cluster: {state, name?, message}, nodes: [this node, then the others]}}. Blocks. */
    Map<String, Object> nodes(Map<String, Object> self) {
        Map<String, Object> cluster = new LinkedHashMap<>();
        List<Map<String, Object>> nodes = new ArrayList<>();
        Map<String, Object> me = new LinkedHashMap<>(self);
        me.put("self", true);
        nodes.add(me);
        if (!services.present("cluster")) {
            cluster.put("state", "absent");
            cluster.put("message", "The cluster bundle (dev.cornerstone.cluster) is not installed on this node: only "
                    + "this node is shown.");
        } else {
            Map<String, Object> info = services.call("cluster", Map.of("command", "info"));
            merge(info, me, nodes, cluster);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster", cluster);
        m.put("nodes", nodes);
        return m;
    }

    /** Adds what the cluster service says to {@code cluster} and the other members to {@code nodes}. */
    static void merge(Map<String, Object> info, Map<String, Object> me, List<Map<String, Object>> nodes,
                      Map<String, Object> cluster) {
        String state = String.valueOf(info.getOrDefault("state", "unknown"));
        cluster.put("state", state);
        cluster.put("name", info.get("name"));
        cluster.put("message", switch (state) {
            case "disabled" -> "Clustering is off on this node (start it with 'cornerstone node --cluster' or "
                    + "'--join HOST'): only this node is shown.";
            case "starting" -> "Joining cluster '" + info.get("name") + "'...";
            case "failed" -> "Joining cluster '" + info.get("name") + "' failed: " + info.get("error");
            case "stopped" -> "This node left cluster '" + info.get("name") + "'.";
            case "joined" -> null;
            default -> "The cluster service reports state '" + state + "'.";
        });
        Object nodeId = info.get("nodeId");
        if (nodeId != null) {
            me.put("id", nodeId);
        }
        if (info.get("members") instanceof List<?> members) {
            for (Object o : members) {
                if (!(o instanceof Map<?, ?> member)) {
                    continue;
                }
                if (nodeId != null && nodeId.equals(member.get("id"))) {
                    continue;
                }
                nodes.add(remote(member));
            }
        }
        cluster.put("members", nodes.size());
    }

    /** A member's registry entry in the shape of the node view. */
    static Map<String, Object> remote(Map<?, ?> member) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("self", false);
        n.put("id", member.get("id"));
        n.put("host", member.get("hostName"));
        n.put("api", member.get("api"));
        n.put("pid", member.get("pid"));
        n.put("startedAt", member.get("startedAt"));
        n.put("cores", member.get("cores"));
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("heap_max_bytes", member.get("maxHeapBytes"));
        memory.put("physical_total_bytes", member.get("memoryBytes"));
        n.put("memory", memory);
        Map<String, Object> backends = new LinkedHashMap<>();
        if (member.get("backends") instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> b) {
                    backends.put(String.valueOf(b.get("name")), b.get("device"));
                }
            }
        }
        n.put("backends", backends);
        List<Object> bundles = new ArrayList<>();
        if (member.get("bundles") instanceof List<?> list) {
            bundles.addAll(list);
        }
        n.put("bundleList", bundles);
        n.put("bundles", bundles.size());
        return n;
    }

    /** The member ids and states, to notice joins and leaves; "" without a cluster. Blocks. */
    String membership() {
        if (!services.present("cluster")) {
            return "";
        }
        Map<String, Object> info = services.call("cluster", Map.of("command", "info"));
        StringBuilder sb = new StringBuilder(String.valueOf(info.get("state")));
        if (info.get("members") instanceof List<?> members) {
            for (Object o : members) {
                if (o instanceof Map<?, ?> m) {
                    sb.append(',').append(m.get("id"));
                }
            }
        }
        return sb.toString();
    }
}
