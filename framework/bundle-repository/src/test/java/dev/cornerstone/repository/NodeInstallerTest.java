package dev.cornerstone.repository;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.core.config.Json;

/**
 * What one node does with the repository, on a real Hazelcast member (alone in a cluster of
 * its own name, no discovery). The node service is a small stand-in for the launcher's (a
 * folder of jars, each ACTIVE): the launcher's own, with File Install, is exercised by
 * {@code ConsoleClusterIT}.
 */
class NodeInstallerTest {

    static HazelcastInstance hz;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startHazelcast() {
        Config c = new Config();
        c.setClusterName("repository-test-" + UUID.randomUUID());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "jdk");
        c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        hz = Hazelcast.newHazelcastInstance(c);
    }

    @AfterAll
    static void stopHazelcast() {
        hz.shutdown();
    }

    /** deploy/ as the node service shows it; counts the deploys. */
    static final class Node implements Function<Map<String, Object>, Map<String, Object>> {
        final Path deploy;
        int deploys;

        Node(Path deploy) {
            this.deploy = deploy;
        }

        @Override
        public Map<String, Object> apply(Map<String, Object> r) {
            try {
                Files.createDirectories(deploy);
                return switch (String.valueOf(r.get("command"))) {
                    case "bundles" -> {
                        List<Object> list = new ArrayList<>();
                        try (var files = Files.list(deploy)) {
                            for (Path p : files.sorted().toList()) {
                                list.add(view(p));
                            }
                        }
                        yield Map.of("bundles", list);
                    }
                    case "deploy" -> {
                        deploys++;
                        Path target = deploy.resolve((String) r.get("name"));
                        Files.copy(Path.of((String) r.get("path")), target,
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        yield Map.of("action", "installed", "file", target.getFileName().toString(), "bundle",
                                view(target));
                    }
                    case "undeploy" -> {
                        Path f = deploy.resolve((String) r.get("name"));
                        yield Files.deleteIfExists(f) ? Map.of("file", f.getFileName().toString())
                                : Map.of("error", "nothing named " + f.getFileName(), "status", 404);
                    }
                    default -> throw new IllegalArgumentException("unknown command " + r.get("command"));
                };
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        static Map<String, Object> view(Path p) throws IOException {
            BundleJar b = BundleJar.of(Files.readAllBytes(p), p.getFileName().toString());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("symbolicName", b.symbolicName());
            m.put("version", b.version());
            m.put("state", "ACTIVE");
            m.put("source", "deploy");
            m.put("file", p.getFileName().toString());
            return m;
        }
    }

    @Test
    void installsOnceReportsAndRemovesWhatLeftEvenAfterARestart() throws Exception {
        String prefix = UUID.randomUUID() + ".";
        IMap<String, String> entries = hz.getMap(prefix + BundleRepository.ENTRIES);
        IMap<String, byte[]> jars = hz.getMap(prefix + BundleRepository.JARS);
        IMap<String, String> status = hz.getMap(prefix + BundleRepository.STATUS);
        Path home = tmp.resolve("home");
        Path data = tmp.resolve("data");
        Node node = new Node(home.resolve("deploy"));
        NodeInstaller installer = new NodeInstaller("n1", home, data, node, entries, jars, status);

        BundleJar jar = BundleJar.of(BundleJarTest.jar(Map.of("Bundle-SymbolicName", "dev.example.a",
                "Bundle-Version", "1.0.0")), "a.jar");
        RepositoryEntry e = new RepositoryEntry(jar.symbolicName(), jar.version(), jar.sha256(), jar.bytes().length,
                "a.jar", "alice", "2026-01-01T00:00:00Z", "n0");
        jars.set(e.symbolicName(), jar.bytes());
        entries.set(e.symbolicName(), Json.write(e.toMap(), false));

        installer.reconcile();
        assertThat(home.resolve("deploy/a.jar")).hasBinaryContent(jar.bytes());
        Map<?, ?> result = (Map<?, ?>) Json.read(status.get("n1|dev.example.a"), "status");
        assertThat(result.get("state")).isEqualTo("ACTIVE");
        assertThat(result.get("sha256")).isEqualTo(jar.sha256());
        assertThat(result.get("version")).isEqualTo("1.0.0");

        installer.reconcile();
        assertThat(node.deploys).as("the same jar is not written again").isEqualTo(1);

        // removed while this node was down: the node that comes back removes it
        entries.delete(e.symbolicName());
        jars.delete(e.symbolicName());
        NodeInstaller restarted = new NodeInstaller("n1", home, data, node, entries, jars, status);
        restarted.reconcile();
        assertThat(home.resolve("deploy/a.jar")).doesNotExist();
        assertThat(status.get("n1|dev.example.a")).isNull();
    }

    @Test
    void anEntryWhoseJarDoesNotMatchIsReportedNotInstalled() throws Exception {
        String prefix = UUID.randomUUID() + ".";
        IMap<String, String> entries = hz.getMap(prefix + BundleRepository.ENTRIES);
        IMap<String, byte[]> jars = hz.getMap(prefix + BundleRepository.JARS);
        IMap<String, String> status = hz.getMap(prefix + BundleRepository.STATUS);
        Path home = tmp.resolve("home");
        Node node = new Node(home.resolve("deploy"));
        NodeInstaller installer = new NodeInstaller("n1", home, tmp.resolve("data"), node, entries, jars, status);
        BundleJar jar = BundleJar.of(BundleJarTest.jar(Map.of("Bundle-SymbolicName", "dev.example.b")), "b.jar");
        RepositoryEntry e = new RepositoryEntry("dev.example.b", "0.0.0", "0".repeat(64), 1, "b.jar", "bob",
                "2026-01-01T00:00:00Z", "n0");
        jars.set(e.symbolicName(), jar.bytes());
        entries.set(e.symbolicName(), Json.write(e.toMap(), false));

        installer.reconcile();
        assertThat(node.deploys).isZero();
        Map<?, ?> result = (Map<?, ?>) Json.read(status.get("n1|dev.example.b"), "status");
        assertThat(result.get("state")).isEqualTo("FAILED");
        assertThat(String.valueOf(result.get("problem"))).contains("different jar");
    }
}
