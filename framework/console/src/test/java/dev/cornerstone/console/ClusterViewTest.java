package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The merge of the cluster service's answer into the node view, with an answer shaped as the
 * cluster bundle's {@code {command: info}} documents it (node registry entries as
 * {@code NodeInfo.toMap()} writes them). Without the cluster bundle in this branch this is the
 * only check of that seam; the node view itself is checked against a real node in the itests.
 */
class ClusterViewTest {

    static Map<String, Object> member(String id, String host) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("cluster", "cornerstone");
        m.put("address", "127.0.0.1:5701");
        m.put("eventBus", "127.0.0.1:40000");
        m.put("api", "http://127.0.0.1:8081/api");
        m.put("pid", 42L);
        m.put("hostName", host);
        m.put("startedAt", "2026-11-30T00:00:00Z");
        m.put("cores", 2);
        m.put("maxHeapBytes", 1L << 30);
        m.put("memoryBytes", 24L << 30);
        m.put("backends", List.of(Map.of("name", "cpu", "device", "2 threads")));
        m.put("bundles", List.of(Map.of("symbolicName", "dev.cornerstone.core", "version", "0.1.0", "state", "ACTIVE")));
        return m;
    }

    @Test
    void aJoinedClusterListsThisNodeFirstThenTheOthers() {
        Map<String, Object> info = Map.of("enabled", true, "state", "joined", "name", "cornerstone", "nodeId", "n1",
                "members", List.of(member("n1", "a"), member("n2", "b")));
        Map<String, Object> me = new LinkedHashMap<>(Map.of("self", true, "host", "a"));
        List<Map<String, Object>> nodes = new ArrayList<>(List.of(me));
        Map<String, Object> cluster = new LinkedHashMap<>();
        ClusterView.merge(info, me, nodes, cluster);
        assertThat(cluster).containsEntry("state", "joined").containsEntry("members", 2);
        assertThat(cluster.get("message")).isNull();
        assertThat(nodes).hasSize(2);
        assertThat(nodes.get(0)).containsEntry("id", "n1").containsEntry("self", true);
        Map<String, Object> other = nodes.get(1);
        assertThat(other).containsEntry("id", "n2").containsEntry("host", "b").containsEntry("self", false)
                .containsEntry("cores", 2).containsEntry("bundles", 1);
        assertThat(other.get("backends")).isEqualTo(Map.of("cpu", "2 threads"));
        assertThat(((Map<?, ?>) other.get("memory")).get("physical_total_bytes")).isEqualTo(24L << 30);
    }

    @Test
    void clusteringOffSaysSoAndShowsThisNodeOnly() {
        Map<String, Object> info = Map.of("enabled", false, "state", "disabled", "name", "cornerstone",
                "members", List.of());
        Map<String, Object> me = new LinkedHashMap<>(Map.of("self", true));
        List<Map<String, Object>> nodes = new ArrayList<>(List.of(me));
        Map<String, Object> cluster = new LinkedHashMap<>();
        ClusterView.merge(info, me, nodes, cluster);
        assertThat(nodes).hasSize(1);
        assertThat((String) cluster.get("message")).contains("Clustering is off").contains("--cluster");
    }
}
