package dev.cornerstone.repository;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * A jar offered to the repository, read and checked once at the boundary: not larger than the
 * limit, a zip with a manifest that names a {@code Bundle-SymbolicName}. Anything else is
 * {@link Refused} with a message that names the file, and nothing is stored.
 *
 * @param symbolicName Bundle-SymbolicName without its directives
 * @param version      Bundle-Version, {@code 0.0.0} when absent
 * @param sha256       hex SHA-256 of {@code bytes}
 * @param bytes        the jar
 */
record BundleJar(String symbolicName, String version, String sha256, byte[] bytes) {

    /** A file name that is safe in deploy/ (the launcher's DeployFolder accepts the same). */
    static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,200}\\.jar");

    /** A refusal with the HTTP status it maps to: 400 not a bundle, 413 too large, 404 unknown. */
    static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    static BundleJar read(Path jar, String name, long maxBytes) {
        long size;
        try {
            size = Files.size(jar);
        } catch (IOException e) {
            throw new Refused(400, name + ": cannot be read: " + e.getMessage());
        }
        if (size > maxBytes) {
            throw new Refused(413, name + " (" + size + " bytes) exceeds the bundle repository's limit of " + maxBytes
                    + " bytes (framework property repository.max.bytes)");
        }
        if (size == 0) {
            throw new Refused(400, name + " is empty: send a bundle jar");
        }
        try {
            return of(Files.readAllBytes(jar), name);
        } catch (IOException e) {
            throw new Refused(400, name + ": cannot be read: " + e.getMessage());
        }
    }

    static BundleJar of(byte[] bytes, String name) {
        Manifest mf;
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes))) {
            mf = in.getManifest();
            if (mf == null && in.getNextJarEntry() == null) {
                throw new Refused(400, name + " is not a valid jar (zip) file: it holds no entries; nothing was stored");
            }
        } catch (IOException e) {
            throw new Refused(400, name + " is not a valid jar (zip) file: " + e.getMessage() + "; nothing was stored");
        }
        String bsn = mf == null ? null : mf.getMainAttributes().getValue("Bundle-SymbolicName");
        if (bsn == null || bsn.isBlank()) {
            throw new Refused(400, name + " has no Bundle-SymbolicName in its manifest, so it is not an OSGi bundle; "
                    + "nothing was stored");
        }
        bsn = bsn.split(";", 2)[0].trim();
        String version = mf.getMainAttributes().getValue("Bundle-Version");
        version = version == null || version.isBlank() ? "0.0.0" : version.trim();
        return new BundleJar(bsn, version, sha256(bytes), bytes);
    }

    /** The name nodes give the jar in deploy/: the uploaded file's name when it is safe, else BSN-VERSION.jar. */
    String fileName(String requested) {
        if (requested != null) {
            String n = Path.of(requested).getFileName().toString();
            if (SAFE_NAME.matcher(n).matches()) {
                return n;
            }
        }
        String n = (symbolicName + "-" + version + ".jar").replaceAll("[^A-Za-z0-9._+-]", "_");
        return SAFE_NAME.matcher(n).matches() ? n : "bundle.jar";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
