package dev.cornerstone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleFileTest {

    @TempDir
    Path dir;

    static Path jar(Path file, String... headers) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        for (int i = 0; i < headers.length; i += 2) {
            mf.getMainAttributes().putValue(headers[i], headers[i + 1]);
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, mf)) {
            jar.closeEntry();
        }
        return file;
    }

    @Test
    void readsSymbolicNameVersionAndFragmentHost() throws IOException {
        BundleFile b = BundleFile.inspect(jar(dir.resolve("a.jar"), "Bundle-SymbolicName", "dev.x.a;singleton:=true",
                "Bundle-Version", "1.2.3", "Fragment-Host", "dev.x.host;bundle-version=1"));
        assertThat(b.ok()).isTrue();
        assertThat(b.symbolicName()).isEqualTo("dev.x.a");
        assertThat(b.version()).isEqualTo("1.2.3");
        assertThat(b.fragmentHost()).isEqualTo("dev.x.host");
    }

    @Test
    void versionDefaultsToZero() throws IOException {
        assertThat(BundleFile.inspect(jar(dir.resolve("b.jar"), "Bundle-SymbolicName", "b")).version())
                .isEqualTo("0.0.0");
    }

    @Test
    void namesTheFileAndTheReasonWhenItIsNotABundle() throws IOException {
        BundleFile plain = BundleFile.inspect(jar(dir.resolve("plain.jar")));
        assertThat(plain.ok()).isFalse();
        assertThat(plain.error()).contains("plain.jar").contains("no Bundle-SymbolicName");

        Path junk = Files.write(dir.resolve("junk.jar"), new byte[] {1, 2, 3, 4, 5});
        assertThat(BundleFile.inspect(junk).error()).contains("junk.jar is not a valid jar");

        Path empty = Files.write(dir.resolve("empty.jar"), new byte[0]);
        assertThat(BundleFile.inspect(empty).error()).contains("empty.jar");
    }
}
