package dev.cornerstone.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks a jar passes before anything is stored in the repository. */
class BundleJarTest {

    @TempDir
    Path tmp;

    static byte[] jar(Map<String, String> headers) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(out, mf)) {
            j.putNextEntry(new JarEntry("readme.txt"));
            j.write("hello".getBytes());
        }
        return out.toByteArray();
    }

    @Test
    void aBundleIsReadWithItsNameVersionAndDigest() throws Exception {
        byte[] bytes = jar(Map.of("Bundle-SymbolicName", "dev.example.hello;singleton:=true", "Bundle-Version", "1.2.3"));
        Path f = Files.write(tmp.resolve("hello.jar"), bytes);
        BundleJar b = BundleJar.read(f, "hello.jar", 1 << 20);
        assertThat(b.symbolicName()).isEqualTo("dev.example.hello");
        assertThat(b.version()).isEqualTo("1.2.3");
        assertThat(b.sha256()).hasSize(64).isEqualTo(BundleJar.sha256(bytes));
        assertThat(b.fileName("hello.jar")).isEqualTo("hello.jar");
        assertThat(b.fileName("../../etc/passwd")).isEqualTo("dev.example.hello-1.2.3.jar");
        assertThat(b.fileName(null)).isEqualTo("dev.example.hello-1.2.3.jar");
    }

    @Test
    void aJarWithoutSymbolicNameIsNotABundle() throws Exception {
        Path f = Files.write(tmp.resolve("plain.jar"), jar(Map.of("Main-Class", "x.Y")));
        assertThatThrownBy(() -> BundleJar.read(f, "plain.jar", 1 << 20))
                .isInstanceOfSatisfying(BundleJar.Refused.class, e -> assertThat(e.status).isEqualTo(400))
                .hasMessageContaining("plain.jar has no Bundle-SymbolicName").hasMessageContaining("nothing was stored");
    }

    @Test
    void randomBytesAreNotAJar() throws Exception {
        byte[] junk = new byte[4096];
        new Random(7).nextBytes(junk);
        Path f = Files.write(tmp.resolve("junk.jar"), junk);
        assertThatThrownBy(() -> BundleJar.read(f, "junk.jar", 1 << 20))
                .isInstanceOfSatisfying(BundleJar.Refused.class, e -> assertThat(e.status).isEqualTo(400))
                .hasMessageContaining("junk.jar is not a valid jar");
    }

    @Test
    void aJarOverTheLimitIsRefusedBeforeItIsRead() throws Exception {
        Path f = Files.write(tmp.resolve("big.jar"), jar(Map.of("Bundle-SymbolicName", "big")));
        long size = Files.size(f);
        assertThatThrownBy(() -> BundleJar.read(f, "big.jar", size - 1))
                .isInstanceOfSatisfying(BundleJar.Refused.class, e -> assertThat(e.status).isEqualTo(413))
                .hasMessageContaining("exceeds the bundle repository's limit of " + (size - 1));
    }

    @Test
    void theLimitComesFromTheFrameworkProperty() {
        assertThat(BundleRepository.maxBytes(null)).isEqualTo(BundleRepository.DEFAULT_MAX_BYTES);
        assertThat(BundleRepository.maxBytes("1024")).isEqualTo(1024);
        assertThat(BundleRepository.maxBytes("-5")).isEqualTo(BundleRepository.DEFAULT_MAX_BYTES);
    }
}
