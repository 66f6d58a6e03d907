package dev.cornerstone.cluster.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.cornerstone.cluster.parallel.ParallelStrategy;

/**
 * The {@code cluster} section of a spec, which makes it a cluster job:
 *
 * <pre>
 * cluster:
 *   nodes: 2              ranks, one per node (default: every member); at most the cluster's size
 *   strategy: ddp         ddp | zero1
 *   checkpoint_dir: DIR   where the job's run folder goes (default: cluster.checkpoint.dir, else the runs/ of the
 *                         node that took the submit); every node must see it at the same path
 *   bucket_bytes: 4194304 gradient bytes per bucket: ddp all-reduces, zero1 reduce-scatters each during backward (default 4 MiB)
 * </pre>
 */
record ClusterJobSpec(int nodes, String strategy, String checkpointDir, Long bucketBytes) {

    static final Set<String> KEYS = Set.of("nodes", "strategy", "checkpoint_dir", "bucket_bytes");

    /** Reads and checks the section; {@code members} is the cluster's size now. Errors name the key. */
    static ClusterJobSpec from(Object section, int members, String clusterName) {
        if (section != null && !(section instanceof Map)) {
            throw new IllegalArgumentException("cluster: must be a section (nodes, strategy, checkpoint_dir, "
                    + "bucket_bytes), got " + section);
        }
        Map<?, ?> m = section == null ? Map.of() : (Map<?, ?>) section;
        for (Object k : m.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("cluster." + k + " is not a key of the cluster section (nodes, "
                        + "strategy, checkpoint_dir, bucket_bytes)");
            }
        }
        int nodes = members;
        Object n = m.get("nodes");
        if (n != null) {
            if (!(n instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue())
                    || num.doubleValue() < 1) {
                throw new IllegalArgumentException("cluster.nodes: " + n + " is not allowed; expected a whole number "
                        + ">= 1");
            }
            nodes = num.intValue();
        }
        if (nodes > members) {
            throw new IllegalArgumentException("cluster.nodes: " + nodes + " is more than the " + members
                    + " member" + (members == 1 ? "" : "s") + " of cluster '" + clusterName + "'");
        }
        Object s = m.containsKey("strategy") ? m.get("strategy") : ParallelStrategy.DDP.specName();
        String strategy = ParallelStrategy.of(String.valueOf(s)).specName(); // an unknown name fails naming the key
        Object d = m.get("checkpoint_dir");
        if (d != null && (!(d instanceof String dir) || dir.isBlank())) {
            throw new IllegalArgumentException("cluster.checkpoint_dir: " + d + " is not a folder path");
        }
        Long bucket = null;
        Object b = m.get("bucket_bytes");
        if (b != null) {
            if (!(b instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue())
                    || num.doubleValue() < 4) {
                throw new IllegalArgumentException("cluster.bucket_bytes: " + b + " is not allowed; expected a whole "
                        + "number of bytes >= 4");
            }
            bucket = num.longValue();
        }
        return new ClusterJobSpec(nodes, strategy, (String) d, bucket);
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodes", nodes);
        m.put("strategy", strategy);
        if (checkpointDir != null) {
            m.put("checkpoint_dir", checkpointDir);
        }
        if (bucketBytes != null) {
            m.put("bucket_bytes", bucketBytes);
        }
        return m;
    }
}
