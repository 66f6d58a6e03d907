package dev.cornerstone.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipException;

/**
 * What a jar file says about itself as an OSGi bundle, read without installing it. Used to
 * refuse an upload that is not a bundle before anything is written, to list a stopped
 * distribution, and to say why a file in {@code deploy/} never became a bundle.
 *
 * @param file          the jar
 * @param symbolicName  Bundle-SymbolicName without directives, or null when {@code error} is set
 * @param version       Bundle-Version, "0.0.0" when absent
 * @param name          Bundle-Name, may be null
 * @param fragmentHost  Fragment-Host, null for a plain bundle
 * @param error         why the file is not a usable bundle, or null
 */
public record BundleFile(Path file, String symbolicName, String version, String name, String fragmentHost,
                         String error) {

    public boolean ok() {
        return error == null;
    }

    public static BundleFile inspect(Path file) {
        String fileName = file.getFileName().toString();
        try (JarFile jar = new JarFile(file.toFile())) {
            Manifest mf = jar.getManifest();
            if (mf == null) {
                return failed(file, fileName + " has no META-INF/MANIFEST.MF, so it is not an OSGi bundle");
            }
            Attributes a = mf.getMainAttributes();
            String bsn = a.getValue("Bundle-SymbolicName");
            if (bsn == null || bsn.isBlank()) {
                return failed(file, fileName + " has no Bundle-SymbolicName in its manifest, so it is not an OSGi bundle");
            }
            String symbolicName = bsn.split(";", 2)[0].trim();
            String version = a.getValue("Bundle-Version");
            String host = a.getValue("Fragment-Host");
            return new BundleFile(file, symbolicName, version == null ? "0.0.0" : version.trim(),
                    a.getValue("Bundle-Name"), host == null ? null : host.split(";", 2)[0].trim(), null);
        } catch (ZipException e) {
            return failed(file, fileName + " is not a valid jar (zip) file: " + e.getMessage());
        } catch (IOException | SecurityException e) {
            return failed(file, fileName + " cannot be read as a jar: " + e.getMessage());
        }
    }

    private static BundleFile failed(Path file, String error) {
        return new BundleFile(file, null, null, null, null, error);
    }
}
