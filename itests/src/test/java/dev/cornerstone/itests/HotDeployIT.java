package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/ on a running node: a bundle copied in registers its DS component, a replaced jar
 * swaps the service in place, configurations (.cfg, .cfg.json) reach the component, and a
 * deleted jar unregisters it. The steps build on each other, so they run in order on one node.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HotDeployIT {

    private static final Duration WITHIN = Duration.ofSeconds(15);

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Path jars;

    @BeforeAll
    static void startNode() throws Exception {
        dist = Distribution.copyInto(tmp);
        jars = tmp.resolve("jars");
        node = NodeProcess.start(dist, tmp.resolve("data"));
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    static List<JsonNode> greeters() throws Exception {
        return node.services(s -> s.path("objectClass").toString()
                .contains("dev.cornerstone.itests.bundles.hello.Greeter"));
    }

    /** True when exactly one Greeter is registered and its {@code key} property is {@code value} (one snapshot). */
    static boolean oneGreeterWith(String key, String value) throws Exception {
        List<JsonNode> g = greeters();
        return g.size() == 1 && g.getFirst().path(key).asText().equals(value);
    }

    @Test
    @Order(1)
    void copiedBundleRegistersItsComponent() throws Exception {
        Path v1 = TestBundles.hello(jars, "1.0.0");
        Files.copy(v1, dist.deploy().resolve("hello.jar"));
        long ms = node.await("Greeter 1.0.0 registered", WITHIN, () -> oneGreeterWith("bundle.version", "1.0.0"));
        System.out.println("hot deploy: service registered " + ms + " ms after the copy");
        JsonNode svc = greeters().getFirst();
        assertThat(svc.path("component.name").asText()).isEqualTo("dev.cornerstone.itests.bundles.hello.HelloComponent");
        assertThat(svc.path("greeting").asText()).isEqualTo("hello");
        JsonNode b = node.bundle(TestBundles.HELLO);
        assertThat(b.path("state").asText()).isEqualTo("ACTIVE");
        assertThat(b.path("source").asText()).isEqualTo("deploy");
        assertThat(b.path("file").asText()).isEqualTo("hello.jar");
    }

    @Test
    @Order(2)
    void replacedJarSwapsTheService() throws Exception {
        long idBefore = node.bundle(TestBundles.HELLO).path("id").asLong();
        Path v2 = TestBundles.hello(jars, "2.0.0");
        Files.copy(v2, dist.deploy().resolve("hello.jar"), StandardCopyOption.REPLACE_EXISTING);
        node.await("Greeter 2.0.0 registered", WITHIN, () -> oneGreeterWith("bundle.version", "2.0.0"));
        JsonNode b = node.bundle(TestBundles.HELLO);
        assertThat(b.path("id").asLong()).as("updated in place, same bundle id").isEqualTo(idBefore);
        assertThat(b.path("version").asText()).isEqualTo("2.0.0");
        String log = node.log();
        int deactivated = log.indexOf("HelloComponent deactivated version 1.0.0");
        int activated = log.indexOf("HelloComponent activated version 2.0.0");
        assertThat(deactivated).as("old component deactivated").isPositive();
        assertThat(activated).as("new component activated after the old one").isGreaterThan(deactivated);
    }

    @Test
    @Order(3)
    void cfgFileConfiguresTheComponent() throws Exception {
        Path cfg = dist.deploy().resolve("dev.cornerstone.itests.hello.cfg");
        Files.writeString(cfg, "greeting = bonjour\n");
        node.await("greeting from .cfg", WITHIN, () -> oneGreeterWith("greeting", "bonjour"));
        Files.delete(cfg);
        node.await("greeting back to default", WITHIN, () -> oneGreeterWith("greeting", "hello"));
    }

    @Test
    @Order(4)
    void cfgJsonFileConfiguresTheComponent() throws Exception {
        Path cfg = dist.deploy().resolve("dev.cornerstone.itests.hello.cfg.json");
        Files.writeString(cfg, "{ \"greeting\": \"hola\", \"repeat:Integer\": 3 }\n");
        node.await("greeting from .cfg.json", WITHIN, () -> oneGreeterWith("greeting", "hola"));
        assertThat(greeters().getFirst().path("repeat").asInt()).isEqualTo(3);
        Files.writeString(cfg, "{ \"greeting\": \"ciao\" }\n");
        node.await("greeting updated from .cfg.json", WITHIN, () -> oneGreeterWith("greeting", "ciao"));
        Files.delete(cfg);
        node.await("greeting back to default", WITHIN, () -> oneGreeterWith("greeting", "hello"));
    }

    @Test
    @Order(5)
    void deletedJarUnregistersTheService() throws Exception {
        Files.delete(dist.deploy().resolve("hello.jar"));
        node.await("Greeter gone", WITHIN, () -> greeters().isEmpty() && node.bundle(TestBundles.HELLO) == null);
        assertThat(node.log()).contains("HelloComponent deactivated version 2.0.0");
        assertThat(node.get("/node").path("problems").asLong()).isZero();
    }
}
