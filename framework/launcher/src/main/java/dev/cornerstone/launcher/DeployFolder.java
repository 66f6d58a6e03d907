package dev.cornerstone.launcher;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code deploy/} folder as File Install sees it: what is there, and atomic changes to
 * it. A file is never half-written in the watched folder: it is written under a hidden
 * name (which File Install's filter ignores), then renamed into place, so a replaced jar
 * is one update and a failed copy leaves nothing behind.
 */
public final class DeployFolder {

    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*\\.jar");

    private final Path dir;

    public DeployFolder(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    /** Bundle jars in the folder, sorted by name. */
    public List<Path> jars() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".jar") && !n.startsWith(".") && Files.isRegularFile(p);
            }).sorted().toList();
        }
    }

    /** The jar for a file name (with or without {@code .jar}) or a bundle symbolic name. */
    public Optional<Path> find(String name) throws IOException {
        for (Path p : jars()) {
            String fn = p.getFileName().toString();
            if (fn.equals(name) || fn.equals(name + ".jar")) {
                return Optional.of(p);
            }
        }
        for (Path p : jars()) {
            BundleFile bf = BundleFile.inspect(p);
            if (bf.ok() && bf.symbolicName().equals(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Puts a checked bundle into the folder. A bundle whose symbolic name is already
     * deployed replaces that file (File Install then updates it in place); otherwise it is
     * stored as {@code requestedName}, or {@code <symbolic-name>-<version>.jar}.
     *
     * @return the file in the folder
     * @throws IllegalArgumentException when the file is not a bundle or the name is unsafe
     */
    public Path deploy(Path source, String requestedName) throws IOException {
        BundleFile bf = BundleFile.inspect(source);
        if (!bf.ok()) {
            throw new IllegalArgumentException(bf.error());
        }
        Path target = null;
        for (Path p : jars()) {
            BundleFile existing = BundleFile.inspect(p);
            if (existing.ok() && existing.symbolicName().equals(bf.symbolicName())) {
                target = p;
                break;
            }
        }
        if (target == null) {
            String name = requestedName == null || requestedName.isBlank()
                    ? bf.symbolicName() + "-" + bf.version() + ".jar"
                    : Path.of(requestedName).getFileName().toString();
            if (!SAFE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("file name '" + name
                        + "' is not allowed in deploy/: use letters, digits, '.', '_', '+' or '-', ending in .jar");
            }
            target = dir.resolve(name);
        }
        Files.createDirectories(dir);
        Path part = dir.resolve("." + target.getFileName() + ".part");
        try {
            Files.copy(source, part, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(part);
        }
        return target;
    }

    /** Removes a deployed jar; File Install uninstalls its bundle. */
    public void undeploy(Path jar) throws IOException {
        Files.delete(jar);
    }
}
