package dev.cornerstone.itests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures for the foundation, printed, never asserted: node boot time (process start to API
 * answering, median of 5), hot-deploy latency (file copied into deploy/ to its DS service
 * registered, median of 10), bundle count and distribution size. Not run by default:
 * {@code mvn -B verify -pl itests -Dit.test=FoundationBench}.
 */
class FoundationBench {

    @TempDir
    Path tmp;

    @Test
    void measure() throws Exception {
        Distribution dist = Distribution.copyInto(tmp);
        List<Long> boots = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            try (NodeProcess node = NodeProcess.start(dist, tmp.resolve("boot-" + i))) {
                boots.add(node.readyMillis());
                node.stop(Duration.ofSeconds(10));
            }
        }

        List<Long> deploys = new ArrayList<>();
        int bundles;
        try (NodeProcess node = NodeProcess.start(dist, tmp.resolve("deploy"))) {
            bundles = node.bundles().size();
            Path jar = dist.deploy().resolve("hello.jar");
            for (int i = 0; i < 10; i++) {
                Path built = TestBundles.hello(tmp.resolve("jars"), "1.0." + i);
                long t0 = System.nanoTime();
                Files.copy(built, jar, StandardCopyOption.REPLACE_EXISTING);
                String version = "1.0." + i;
                node.await("service " + version, Duration.ofSeconds(20), () -> node.services(
                        s -> s.path("objectClass").toString().contains("Greeter")
                                && s.path("bundle.version").asText().equals(version)).size() == 1);
                deploys.add((System.nanoTime() - t0) / 1_000_000);
                Files.delete(jar);
                node.await("service gone", Duration.ofSeconds(20), () -> node.services(
                        s -> s.path("objectClass").toString().contains("Greeter")).isEmpty());
            }
        }

        Path tarball = Path.of(System.getProperty("cornerstone.tarball"));
        long distBytes;
        try (Stream<Path> s = Files.walk(dist.root)) {
            distBytes = s.filter(Files::isRegularFile).filter(p -> !p.startsWith(dist.root.resolve("data")))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
        System.out.println("== Cornerstone foundation figures ==");
        System.out.println("node boot, process start to API ready (ms): " + boots + " median " + median(boots));
        System.out.println("hot deploy, copy to service registered (ms): " + deploys + " median " + median(deploys));
        System.out.println("bundles in a fresh node (incl. framework): " + bundles);
        System.out.printf("distribution folder: %.1f MiB%n", distBytes / 1048576.0);
        if (Files.isRegularFile(tarball)) {
            System.out.printf("distribution tar.gz: %.1f MiB (%s)%n", Files.size(tarball) / 1048576.0,
                    tarball.getFileName());
        }
    }

    private static long median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        s.sort(Comparator.naturalOrder());
        return s.get(s.size() / 2);
    }
}
