package dev.cornerstone.data.text;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared corpora ({@code /work/shared/data}), passed by surefire as {@code cornerstone.shared.data};
 * without it (a test started from an IDE) the path relative to the module folder is used.
 */
final class SharedData {

    static final String PROPERTY = "cornerstone.shared.data";

    private SharedData() {
    }

    /** The file, or the test is skipped (not passed) with the reason when the corpus is absent. */
    static Path file(String name) {
        Path folder = Path.of(System.getProperty(PROPERTY, "../../../shared/data"));
        Path file = folder.resolve(name).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(file),
                () -> "shared corpus " + file + " is absent (set -D" + PROPERTY + " to the shared/data folder)");
        return file;
    }
}
