package dev.cornerstone.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private copy of the assembled distribution (unpacked from its tar.gz by the build),
 * so each test class has its own deploy/, conf/ and data/. Also runs {@code bin/cornerstone}.
 */
final class Distribution {

    final Path root;

    private Distribution(Path root) {
        this.root = root;
    }

    /** Copies the built distribution into {@code parent}. */
    static Distribution copyInto(Path parent) throws IOException {
        String dist = System.getProperty("cornerstone.dist");
        if (dist == null) {
            throw new IllegalStateException("system property cornerstone.dist is not set: run through 'mvn verify'");
        }
        Path src = Path.of(dist);
        if (!Files.isExecutable(src.resolve("bin/cornerstone"))) {
            throw new IllegalStateException(src + "/bin/cornerstone is missing or not executable");
        }
        Path dst = parent.resolve(src.getFileName());
        Files.walkFileTree(src, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(dst.resolve(src.relativize(dir)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, dst.resolve(src.relativize(file)), StandardCopyOption.COPY_ATTRIBUTES,
                        LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
        // Each test's node serves its web console on a free port of its own (not 8080, which
        // parallel test runs on one machine would fight over); NodeProcess reads it from node.json.
        Path conf = dst.resolve("conf/cornerstone.properties");
        Files.writeString(conf, Files.readString(conf) + "\nconsole.port=0\n");
        return new Distribution(dst);
    }

    /**
     * The one line the JVM prints at start for the Vector API's incubator module, which no flag
     * silences (accepted in docs/DEVELOPING.md); whatever else a command prints is checked.
     */
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector\n";

    static String withoutIncubatorWarning(String output) {
        return output.replace(INCUBATOR_WARNING, "");
    }

    Path deploy() {
        return root.resolve("deploy");
    }

    Path bin() {
        return root.resolve("bin/cornerstone");
    }

    /** The environment a user has: JAVA_HOME pointing at the JDK running the tests. */
    ProcessBuilder command(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("CORNERSTONE_TOKEN");
        return pb;
    }

    /** Runs a short command to completion, from {@code workDir}. */
    Result run(Path workDir, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = command(List.of(args)).directory(workDir.toFile());
        Path out = Files.createTempFile("cli-out", ".txt");
        Path err = Files.createTempFile("cli-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("cornerstone " + String.join(" ", args) + " did not finish in 60 s");
        }
        Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    Result run(String... args) throws IOException, InterruptedException {
        return run(root, args);
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}
