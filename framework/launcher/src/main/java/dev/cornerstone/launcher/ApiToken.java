package dev.cornerstone.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The secret that authenticates requests to a node's API: 32 random bytes in hex, made at
 * the node's first start in {@code conf/api-token}, readable by its owner only. Commands on
 * the same distribution read it from there; remote clients pass it with {@code --token}.
 */
public final class ApiToken {

    private ApiToken() {
    }

    /** Reads the token, creating it (owner-only) when absent. Returns null as the second value if it existed. */
    public static Created readOrCreate(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            return new Created(read(file), false);
        }
        Files.createDirectories(file.getParent());
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        String token = HexFormat.of().formatHex(bytes);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            return new Created(read(file), false);
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
        return new Created(token, true);
    }

    public static String read(Path file) throws IOException {
        String t = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (t.isEmpty()) {
            throw new IOException(file + " is empty: delete it and restart the node to make a new token");
        }
        return t;
    }

    /** Compares in constant time. */
    public static boolean matches(String expected, String given) {
        if (given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    public record Created(String token, boolean isNew) {
    }
}
