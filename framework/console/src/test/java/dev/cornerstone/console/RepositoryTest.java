package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Every bundle on every node: the table the bundles view draws from the node registry. */
class RepositoryTest {

    static Map<String, Object> member(String id, String host, Object... bundles) {
        List<Object> list = new java.util.ArrayList<>();
        for (int i = 0; i < bundles.length; i += 3) {
            list.add(Map.of("symbolicName", bundles[i], "version", bundles[i + 1], "state", bundles[i + 2]));
        }
        return Map.of("id", id, "hostName", host, "bundles", list);
    }

    @Test
    @SuppressWarnings("unchecked")
    void oneRowPerBundleOneCellPerNode() {
        Map<String, Object> info = Map.of("state", "joined", "nodeId", "a", "members", List.of(
                member("a", "h1", "dev.x", "1.0.0", "ACTIVE", "dev.y", "2.0.0", "ACTIVE"),
                member("b", "h2", "dev.x", "1.1.0", "RESOLVED")));
        Map<String, Object> m = Repository.matrix(info, List.of());
        List<Map<String, Object>> nodes = (List<Map<String, Object>>) m.get("nodes");
        assertThat(nodes).extracting(n -> n.get("id")).containsExactly("a", "b");
        assertThat(nodes).extracting(n -> n.get("self")).containsExactly(true, false);
        List<Map<String, Object>> rows = (List<Map<String, Object>>) m.get("bundles");
        assertThat(rows).extracting(r -> r.get("symbolicName")).containsExactly("dev.x", "dev.y");
        Map<String, Map<String, Object>> x = (Map<String, Map<String, Object>>) rows.get(0).get("nodes");
        assertThat(x.get("a")).containsEntry("version", "1.0.0").containsEntry("state", "ACTIVE");
        assertThat(x.get("b")).containsEntry("version", "1.1.0").containsEntry("state", "RESOLVED");
        assertThat((Map<String, Object>) rows.get(1).get("nodes")).containsOnlyKeys("a");
    }

    @Test
    @SuppressWarnings("unchecked")
    void withoutAClusterThisNodesBundles() {
        Map<String, Object> m = Repository.matrix(Map.of("state", "disabled", "members", List.of()), List.of(
                Map.of("symbolicName", "dev.cornerstone.console", "version", "0.1.0", "state", "ACTIVE"),
                Map.of("file", "broken.jar", "state", "REJECTED")));
        assertThat((List<Map<String, Object>>) m.get("nodes")).singleElement()
                .satisfies(n -> assertThat(n).containsEntry("id", "self").containsEntry("self", true));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) m.get("bundles");
        assertThat(rows).singleElement().satisfies(r -> assertThat(r).containsEntry("symbolicName",
                "dev.cornerstone.console"));
    }
}
