package dev.cornerstone.itests;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import aQute.bnd.osgi.Builder;
import aQute.bnd.osgi.Jar;

/**
 * Builds the bundles the integration tests deploy, with bnd, from classes compiled in
 * this module (package {@code dev.cornerstone.itests.bundles.*}).
 */
final class TestBundles {

    static final String HELLO = "dev.cornerstone.itests.hello";
    static final String BAD_ACTIVATOR = "dev.cornerstone.itests.badactivator";
    static final String BAD_IMPORT = "dev.cornerstone.itests.badimport";
    static final String PROVIDER = "dev.cornerstone.itests.provider";
    static final String MISSING_PACKAGE = "dev.cornerstone.itests.bundles.provided";

    private TestBundles() {
    }

    private static File testClasses() {
        return new File(System.getProperty("cornerstone.test.classes", "target/test-classes"));
    }

    /** The DS component bundle, at {@code version}. */
    static Path hello(Path dir, String version) throws Exception {
        return build(dir.resolve("hello-" + version + ".jar"), Map.of(
                "Bundle-SymbolicName", HELLO,
                "Bundle-Version", version,
                "Private-Package", "dev.cornerstone.itests.bundles.hello",
                "-dsannotations", "*"));
    }

    /** A bundle whose activator throws. */
    static Path badActivator(Path dir) throws Exception {
        return build(dir.resolve("bad-activator.jar"), Map.of(
                "Bundle-SymbolicName", BAD_ACTIVATOR,
                "Bundle-Version", "1.0.0",
                "Private-Package", "dev.cornerstone.itests.bundles.badactivator",
                "Bundle-Activator", "dev.cornerstone.itests.bundles.badactivator.FailingActivator"));
    }

    /** A bundle that imports a package nobody exports. */
    static Path badImport(Path dir) throws Exception {
        return build(dir.resolve("bad-import.jar"), Map.of(
                "Bundle-SymbolicName", BAD_IMPORT,
                "Bundle-Version", "1.0.0",
                "Import-Package", MISSING_PACKAGE + ";version=\"[1.0,2)\"",
                "-includeresource", "readme.txt;literal='needs " + MISSING_PACKAGE + "'"));
    }

    /** Exports the package {@link #badImport} needs. */
    static Path provider(Path dir) throws Exception {
        return build(dir.resolve("provider.jar"), Map.of(
                "Bundle-SymbolicName", PROVIDER,
                "Bundle-Version", "1.0.0",
                "Export-Package", MISSING_PACKAGE + ";version=1.0.0"));
    }

    /** Exercises Vert.x, Vert.x Web and LWJGL natives from inside the container. */
    static Path stackProbe(Path dir) throws Exception {
        return build(dir.resolve("stack-probe.jar"), Map.of(
                "Bundle-SymbolicName", "dev.cornerstone.itests.probe",
                "Bundle-Version", "1.0.0",
                "Private-Package", "dev.cornerstone.itests.bundles.probe",
                "Bundle-Activator", "dev.cornerstone.itests.bundles.probe.StackProbe"));
    }

    /** A file named .jar that is not a zip at all. */
    static Path corrupt(Path dir) throws IOException {
        byte[] junk = new byte[4096];
        new Random(42).nextBytes(junk);
        Files.createDirectories(dir);
        Path p = dir.resolve("corrupt.jar");
        Files.write(p, junk);
        return p;
    }

    private static Path build(Path out, Map<String, String> instructions) throws Exception {
        Files.createDirectories(out.getParent());
        try (Builder b = new Builder()) {
            instructions.forEach(b::setProperty);
            b.setProperty("-noextraheaders", "true");
            b.addClasspath(testClasses());
            Jar jar = b.build();
            if (!b.getErrors().isEmpty()) {
                throw new IllegalStateException("bnd failed for " + out.getFileName() + ": " + b.getErrors());
            }
            jar.write(out.toFile());
        }
        return out;
    }
}
