package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Versions recorded at build time (filtered from {@code cornerstone-version.properties}). */
final class Version {

    static final String CORNERSTONE;
    static final String FELIX;

    static {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/cornerstone-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CORNERSTONE = p.getProperty("cornerstone.version", "unknown");
        FELIX = p.getProperty("felix.version", "unknown");
    }

    private Version() {
    }
}
