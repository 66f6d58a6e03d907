package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * The console of a clustered node shows the other members, and shows them come and go
 * without a reload: two nodes of one distribution form a cluster on loopback under a name of
 * their own; the first one's console lists both (REST and page), then the second stops and
 * the page drops it, pushed by the node's {@code nodes} event. Screenshots
 * {@code 09-cluster-two-nodes.png} and {@code 10-cluster-node-left.png}.
 */
class ConsoleClusterIT {

    static final Map<String, String> SMALL_HEAP = Map.of("JAVA_OPTS", "-Xmx256m");

    @TempDir
    static Path tmp;
    static NodeProcess first;
    static NodeProcess second;
    static Chromium chromium;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        Distribution dist = Distribution.copyInto(tmp);
        String name = "console-" + UUID.randomUUID().toString().substring(0, 8);
        first = NodeProcess.start(dist, tmp.resolve("node-0"), List.of("--cluster", "--cluster-name", name),
                SMALL_HEAP);
        String seed = awaitJoined(first).path("local").path("address").asText();
        second = NodeProcess.start(dist, tmp.resolve("node-1"), List.of("--join", seed, "--cluster-name", name),
                SMALL_HEAP);
        awaitJoined(second);
        chromium = new Chromium(tmp);
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
        for (NodeProcess n : new NodeProcess[]{second, first}) {
            if (n != null) {
                n.close();
            }
        }
    }

    static JsonNode awaitJoined(NodeProcess n) throws Exception {
        JsonNode[] last = new JsonNode[1];
        n.await("cluster joined", Duration.ofSeconds(120), () -> {
            last[0] = n.get("/cluster");
            assertThat(last[0].path("state").asText()).as(last[0].toString()).isNotEqualTo("failed");
            return last[0].path("state").asText().equals("joined");
        });
        return last[0];
    }

    @Test
    void theClustersNodesAppearAndLeaveLive() throws Exception {
        String secondId = second.get("/cluster").path("nodeId").asText();
        ConsoleClient console = new ConsoleClient(first.console);
        assertThat(console.login(first.token).statusCode()).isEqualTo(200);
        first.await("both members in the console", Duration.ofSeconds(60), () ->
                console.ok("/api/nodes").path("nodes").size() == 2);
        JsonNode nodes = console.ok("/api/nodes");
        assertThat(nodes.path("cluster").path("state").asText()).isEqualTo("joined");
        assertThat(nodes.path("cluster").path("message").isNull()).isTrue();
        JsonNode other = nodes.path("nodes").get(1);
        assertThat(other.path("self").asBoolean()).isFalse();
        assertThat(other.path("id").asText()).isEqualTo(secondId);
        assertThat(other.path("api").asText()).isEqualTo(second.api.toString());
        assertThat(other.path("backends").has("cpu")).isTrue();
        assertThat(other.path("bundleList").toString()).contains("dev.cornerstone.console");

        chromium.signIn(first);
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 2);
        chromium.waitText("#cluster-message", "2 nodes");
        assertThat(chromium.driver.findElement(By.cssSelector("#nodes [data-node='" + secondId + "']")).getText())
                .contains(secondId).contains("cpu").contains("bundles");
        chromium.screenshot("09-cluster-two-nodes");

        long events = ((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue();
        second.stop(Duration.ofSeconds(30));
        // no reload: the page redraws on the node's event when the member is gone
        chromium.wait.until(d -> d.findElements(By.cssSelector("#nodes .node")).size() == 1);
        chromium.waitText("#cluster-message", "1 node,");
        assertThat(chromium.driver.findElements(By.cssSelector("[data-node='" + secondId + "']"))).isEmpty();
        assertThat(((Number) chromium.js("return window.cornerstone.stats.nodeEvents;")).longValue())
                .as("the node pushed the change").isGreaterThan(events);
        chromium.screenshot("10-cluster-node-left");
        assertThat(console.ok("/api/nodes").path("nodes")).hasSize(1);
    }
}
