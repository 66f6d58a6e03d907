package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution boots as a separate JVM with every bundle active and stops cleanly on SIGTERM. */
class NodeBootIT {

    @TempDir
    Path tmp;

    @Test
    void everyBundleActiveThenCleanStopOnSigterm() throws Exception {
        Distribution dist = Distribution.copyInto(tmp);
        Path data = tmp.resolve("node-data");
        try (NodeProcess node = NodeProcess.start(dist, data)) {
            JsonNode bundles = node.bundles();
            long systemJars;
            try (Stream<Path> s = Stream.concat(Files.list(dist.root.resolve("system")), Files.list(dist.deploy()))) {
                systemJars = s.filter(p -> p.toString().endsWith(".jar")).count();
            }
            assertThat(bundles).hasSize((int) systemJars + 1); // + the framework itself; system/ and shipped deploy/
            List<String> unhealthy = new ArrayList<>();
            for (JsonNode b : bundles) {
                boolean fragment = b.path("fragment").asBoolean();
                String state = b.path("state").asText();
                boolean ok = b.path("problem").isNull()
                        && (state.equals("ACTIVE") || (fragment && state.equals("RESOLVED")));
                if (!ok) {
                    unhealthy.add(b.toString());
                }
            }
            assertThat(unhealthy).as("bundles not active, or with a problem").isEmpty();
            assertThat(node.get("/node").path("problems").asLong()).isZero();
            assertThat(node.log()).doesNotContain("ERROR").contains("node started in");
            assertThat(Distribution.withoutIncubatorWarning(node.console())).doesNotContain("WARNING:"); // no JVM warnings reach the user

            // The wrapped stack works from inside the container, not only resolves.
            Files.copy(TestBundles.stackProbe(tmp.resolve("jars")), dist.deploy().resolve("stack-probe.jar"));
            node.await("stack probe registered", Duration.ofSeconds(60), () -> !node.services(
                    s -> "stack".equals(s.path("probe").asText())).isEmpty());
            JsonNode probe = node.services(s -> "stack".equals(s.path("probe").asText())).getFirst();
            assertThat(probe.path("probe.error").isMissingNode()).as(probe.toString()).isTrue();
            assertThat(probe.path("probe.vertx").asText()).isEqualTo("vert.x web answered pong");
            assertThat(probe.path("probe.lwjgl").asText()).startsWith("3.3.6").endsWith("byte=7");

            // The command line finds the node from any working directory.
            Distribution.Result list = dist.run(tmp, "bundles", "list", "--data", data.toString());
            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.out()).contains("Bundles of node " + node.api).contains("io.vertx.core")
                    .contains("org.lwjgl").contains("com.hazelcast").contains("0 with problems");

            long stopMillis = node.stop(Duration.ofSeconds(10));
            assertThat(stopMillis).as("stop after SIGTERM (ms)").isLessThan(10_000);
            assertThat(node.process.exitValue()).isIn(0, 143); // 143: ended by SIGTERM after the hooks ran
            assertThat(data.resolve("node.json")).doesNotExist();
            assertThat(node.log()).contains("Stopping node (signal received)").contains("Node stopped");
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                    .contains(data.toString())).toList()).as("processes left behind").isEmpty();
        }
    }
}
