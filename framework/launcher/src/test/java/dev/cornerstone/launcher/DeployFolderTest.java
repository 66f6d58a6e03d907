package dev.cornerstone.launcher;

import static dev.cornerstone.launcher.BundleFileTest.jar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeployFolderTest {

    @TempDir
    Path tmp;
    DeployFolder folder;
    Path src;

    @BeforeEach
    void setUp() throws IOException {
        folder = new DeployFolder(tmp.resolve("deploy"));
        src = Files.createDirectories(tmp.resolve("src"));
    }

    @Test
    void deploysUnderTheRequestedOrDerivedName() throws IOException {
        Path a = folder.deploy(jar(src.resolve("x.jar"), "Bundle-SymbolicName", "dev.a", "Bundle-Version", "1.0.0"),
                "alpha.jar");
        assertThat(a.getFileName().toString()).isEqualTo("alpha.jar");
        Path b = folder.deploy(jar(src.resolve("y.jar"), "Bundle-SymbolicName", "dev.b", "Bundle-Version", "2.0.0"),
                null);
        assertThat(b.getFileName().toString()).isEqualTo("dev.b-2.0.0.jar");
        assertThat(folder.jars()).containsExactly(a, b);
    }

    @Test
    void aNewVersionReplacesTheFileOfTheSameBundle() throws IOException {
        Path first = folder.deploy(jar(src.resolve("v1.jar"), "Bundle-SymbolicName", "dev.a", "Bundle-Version", "1"),
                "a-1.jar");
        Path second = folder.deploy(jar(src.resolve("v2.jar"), "Bundle-SymbolicName", "dev.a", "Bundle-Version", "2"),
                "a-2.jar");
        assertThat(second).isEqualTo(first);
        assertThat(folder.jars()).hasSize(1);
        assertThat(BundleFile.inspect(first).version()).isEqualTo("2");
    }

    @Test
    void refusesNonBundlesAndUnsafeNamesWithoutWritingAnything() throws IOException {
        Path junk = Files.write(src.resolve("junk.jar"), new byte[] {9, 9, 9});
        assertThatThrownBy(() -> folder.deploy(junk, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("junk.jar is not a valid jar");
        Path ok = jar(src.resolve("ok.jar"), "Bundle-SymbolicName", "dev.ok");
        assertThatThrownBy(() -> folder.deploy(ok, "bad name!.jar")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad name!.jar' is not allowed");
        assertThatThrownBy(() -> folder.deploy(ok, "notajar.txt")).hasMessageContaining("notajar.txt");
        // a path is reduced to its file name: nothing escapes the folder
        Path placed = folder.deploy(ok, "../../escape.jar");
        assertThat(placed.getParent()).isEqualTo(folder.dir());
        try (var s = Files.list(folder.dir())) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("escape.jar");
        }
    }

    @Test
    void findsByFileNameWithOrWithoutJarAndBySymbolicName() throws IOException {
        Path a = folder.deploy(jar(src.resolve("x.jar"), "Bundle-SymbolicName", "dev.a"), "alpha.jar");
        assertThat(folder.find("alpha.jar")).contains(a);
        assertThat(folder.find("alpha")).contains(a);
        assertThat(folder.find("dev.a")).contains(a);
        assertThat(folder.find("dev.nope")).isEmpty();
        folder.undeploy(a);
        assertThat(folder.jars()).isEmpty();
    }
}
