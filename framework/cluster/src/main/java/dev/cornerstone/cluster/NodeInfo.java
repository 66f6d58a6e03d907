package dev.cornerstone.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node registry entry, stored in Hazelcast as JSON (map {@code cornerstone.nodes}, key
 * {@link #id()}).
 *
 * @param id          the Vert.x node id
 * @param cluster     cluster name
 * @param address     Hazelcast member address, {@code host:port}
 * @param eventBus    event-bus server address, {@code host:port}
 * @param api         the node API's URI; null until the node has announced it
 * @param pid         process id
 * @param hostName    host name of the machine
 * @param startedAt   when the node joined, ISO-8601
 * @param cores       processors available to the JVM
 * @param maxHeapBytes largest Java heap
 * @param memoryBytes physical memory of the machine; -1 when unknown
 * @param backends    compute backends registered on the node
 * @param bundles     bundles installed on the node
 */
public record NodeInfo(String id, String cluster, String address, String eventBus, String api, long pid,
                       String hostName, String startedAt, int cores, long maxHeapBytes, long memoryBytes,
                       List<Backend> backends, List<BundleRef> bundles) {

    /** A compute backend: its {@code backend.name} and what it computes on. */
    public record Backend(String name, String device) {
    }

    /** A bundle: symbolic name, version, state. */
    public record BundleRef(String symbolicName, String version, String state) {
    }

    public NodeInfo {
        backends = List.copyOf(backends);
        bundles = List.copyOf(bundles);
    }

    /** As plain maps, lists, strings and numbers: what goes into JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("cluster", cluster);
        m.put("address", address);
        m.put("eventBus", eventBus);
        m.put("api", api);
        m.put("pid", pid);
        m.put("hostName", hostName);
        m.put("startedAt", startedAt);
        m.put("cores", cores);
        m.put("maxHeapBytes", maxHeapBytes);
        m.put("memoryBytes", memoryBytes);
        List<Object> bs = new ArrayList<>();
        for (Backend b : backends) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", b.name());
            x.put("device", b.device());
            bs.add(x);
        }
        m.put("backends", bs);
        List<Object> bundleList = new ArrayList<>();
        for (BundleRef b : bundles) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("symbolicName", b.symbolicName());
            x.put("version", b.version());
            x.put("state", b.state());
            bundleList.add(x);
        }
        m.put("bundles", bundleList);
        return m;
    }

    /** The inverse of {@link #toMap()}; fails naming the field that is missing or of the wrong type. */
    public static NodeInfo fromMap(Map<?, ?> m) {
        List<Backend> backends = new ArrayList<>();
        for (Object o : list(m, "backends")) {
            Map<?, ?> b = (Map<?, ?>) o;
            backends.add(new Backend(str(b, "name"), str(b, "device")));
        }
        List<BundleRef> bundles = new ArrayList<>();
        for (Object o : list(m, "bundles")) {
            Map<?, ?> b = (Map<?, ?>) o;
            bundles.add(new BundleRef(str(b, "symbolicName"), str(b, "version"), str(b, "state")));
        }
        return new NodeInfo(str(m, "id"), str(m, "cluster"), str(m, "address"), str(m, "eventBus"), str(m, "api"),
                num(m, "pid"), str(m, "hostName"), str(m, "startedAt"), (int) num(m, "cores"),
                num(m, "maxHeapBytes"), num(m, "memoryBytes"), backends, bundles);
    }

    private static String str(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException("node registry entry: '" + key + "' is not a string: " + v);
        }
        return (String) v;
    }

    private static long num(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("node registry entry: '" + key + "' is not a number: " + v);
        }
        return n.longValue();
    }

    private static List<?> list(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof List<?> l)) {
            throw new IllegalArgumentException("node registry entry: '" + key + "' is not a list: " + v);
        }
        return l;
    }
}
