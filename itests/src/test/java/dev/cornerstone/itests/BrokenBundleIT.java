package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cornerstone.itests.bundles.badactivator.FailingActivator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken bundles in deploy/ (an unresolvable import, an activator that throws, a file that
 * is not a jar) are reported in the log and by {@code bundles list}, while the container and
 * every other bundle keep running; a dependency deployed later starts the waiting bundle.
 */
class BrokenBundleIT {

    private static final Duration WITHIN = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    @Test
    void brokenBundlesAreReportedAndTheNodeKeepsRunning() throws Exception {
        Distribution dist = Distribution.copyInto(tmp);
        Path jars = tmp.resolve("jars");
        Path data = tmp.resolve("data");
        try (NodeProcess node = NodeProcess.start(dist, data)) {
            Files.copy(TestBundles.hello(jars, "1.0.0"), dist.deploy().resolve("hello.jar"));
            Files.copy(TestBundles.badImport(jars), dist.deploy().resolve("bad-import.jar"));
            Files.copy(TestBundles.badActivator(jars), dist.deploy().resolve("bad-activator.jar"));
            Files.copy(TestBundles.corrupt(jars), dist.deploy().resolve("corrupt.jar"));

            node.await("bad import reported", WITHIN, () -> hasProblem(node.bundle(TestBundles.BAD_IMPORT),
                    TestBundles.MISSING_PACKAGE));
            node.await("failing activator reported", WITHIN, () -> hasProblem(node.bundle(TestBundles.BAD_ACTIVATOR),
                    FailingActivator.MESSAGE));
            node.await("corrupt jar reported", WITHIN, () -> hasProblem(node.bundle("corrupt.jar"), "not a valid jar"));

            assertThat(node.bundle(TestBundles.BAD_IMPORT).path("state").asText()).isEqualTo("INSTALLED");
            assertThat(node.bundle(TestBundles.BAD_ACTIVATOR).path("state").asText()).isEqualTo("RESOLVED");
            assertThat(node.bundle("corrupt.jar").path("state").asText()).isEqualTo("REJECTED");

            // The rest of the node is untouched: the good bundle and every system bundle run.
            node.await("good bundle active", WITHIN, () -> "ACTIVE".equals(
                    node.bundle(TestBundles.HELLO).path("state").asText()));
            for (JsonNode b : node.bundles()) {
                if ("system".equals(b.path("source").asText())) {
                    assertThat(b.path("state").asText()).as(b.toString()).isIn("ACTIVE", "RESOLVED");
                    assertThat(b.path("problem").isNull()).as(b.toString()).isTrue();
                }
            }

            String log = node.log();
            assertThat(log).contains(TestBundles.BAD_IMPORT).contains(TestBundles.MISSING_PACKAGE);
            assertThat(log).contains(TestBundles.BAD_ACTIVATOR).contains(FailingActivator.MESSAGE);
            node.await("corrupt jar logged", WITHIN, () -> node.log().contains("Cannot install "
                    + dist.deploy().resolve("corrupt.jar") + ": corrupt.jar is not a valid jar"));

            Distribution.Result list = dist.run("bundles", "list", "--data", data.toString());
            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.out()).contains("problem: ").contains(TestBundles.MISSING_PACKAGE)
                    .contains(FailingActivator.MESSAGE).contains("corrupt.jar").contains("3 with problems");

            // The missing package arrives: the waiting bundle resolves and starts by itself.
            Files.copy(TestBundles.provider(jars), dist.deploy().resolve("provider.jar"));
            node.await("bad-import bundle started once its package is provided", WITHIN, () -> {
                JsonNode b = node.bundle(TestBundles.BAD_IMPORT);
                return "ACTIVE".equals(b.path("state").asText()) && b.path("problem").isNull();
            });

            // Removing the broken files clears their reports.
            Files.delete(dist.deploy().resolve("corrupt.jar"));
            Files.delete(dist.deploy().resolve("bad-activator.jar"));
            node.await("reports cleared", WITHIN, () -> node.bundle("corrupt.jar") == null
                    && node.bundle(TestBundles.BAD_ACTIVATOR) == null);
            assertThat(node.process.isAlive()).isTrue();
        }
    }

    private static boolean hasProblem(JsonNode bundle, String text) {
        return bundle != null && bundle.path("problem").asText("").contains(text);
    }
}
