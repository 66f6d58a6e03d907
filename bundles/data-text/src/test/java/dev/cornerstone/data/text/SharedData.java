package dev.cornerstone.data.text;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real corpora committed with the distribution ({@code distribution/src/main/dist/data}),
 * passed by surefire as {@code cornerstone.shared.data}; without it (a test started from an
 * IDE) the path relative to the module folder is used. They are part of the repository, so
 * a missing file fails the test rather than skipping it.
 */
final class SharedData {

    static final String PROPERTY = "cornerstone.shared.data";

    private SharedData() {
    }

    static Path file(String name) {
        Path folder = Path.of(System.getProperty(PROPERTY, "../../distribution/src/main/dist/data"));
        Path file = folder.resolve(name).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("corpus " + file + " is missing from the repository (set -D" + PROPERTY
                    + " to the folder that holds it)");
        }
        return file;
    }
}
