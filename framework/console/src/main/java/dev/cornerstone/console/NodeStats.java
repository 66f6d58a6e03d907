package dev.cornerstone.console;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Memory and load of this node's JVM and machine, as numbers the node view shows. */
final class NodeStats {

    private NodeStats() {
    }

    static Map<String, Object> now() {
        Map<String, Object> m = new LinkedHashMap<>();
        Runtime rt = Runtime.getRuntime();
        m.put("host", hostName());
        m.put("cores", rt.availableProcessors());
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("heap_used_bytes", rt.totalMemory() - rt.freeMemory());
        memory.put("heap_max_bytes", rt.maxMemory());
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("system_load_average", os.getSystemLoadAverage());
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            memory.put("physical_total_bytes", sun.getTotalMemorySize());
            memory.put("physical_free_bytes", sun.getFreeMemorySize());
            load.put("system_cpu", sun.getCpuLoad());
            load.put("process_cpu", sun.getProcessCpuLoad());
        }
        m.put("memory", memory);
        m.put("load", load);
        m.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        return m;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
