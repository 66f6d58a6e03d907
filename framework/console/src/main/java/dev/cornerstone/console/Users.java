package dev.cornerstone.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Console users besides the token: a file (default {@code conf/console-users}) of lines
 * {@code NAME=pbkdf2-sha256:ITERATIONS:SALT:HASH} with salt and hash in Base64, made by
 * {@link Passwords}. The file is read again when it changes, so users are added without a
 * restart. A line that cannot be read is logged, naming the line, and that user cannot sign in.
 */
final class Users {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");

    static final String SCHEME = "pbkdf2-sha256";
    /** Iterations {@link Passwords} uses (OWASP's figure for PBKDF2-HMAC-SHA256). */
    static final int DEFAULT_ITERATIONS = 600_000;
    static final int MIN_ITERATIONS = 10_000;
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._@-]{0,63}";

    /** A stored hash. */
    record Hash(int iterations, byte[] salt, byte[] hash) {

        String encode() {
            Base64.Encoder b64 = Base64.getEncoder();
            return SCHEME + ":" + iterations + ":" + b64.encodeToString(salt) + ":" + b64.encodeToString(hash);
        }

        static Hash parse(String s) {
            String[] parts = s.trim().split(":");
            if (parts.length != 4 || !parts[0].equals(SCHEME)) {
                throw new IllegalArgumentException("expected " + SCHEME + ":ITERATIONS:SALT:HASH");
            }
            int iterations;
            try {
                iterations = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("iterations '" + parts[1] + "' is not a number");
            }
            if (iterations < MIN_ITERATIONS) {
                throw new IllegalArgumentException("iterations " + iterations + " is below " + MIN_ITERATIONS);
            }
            try {
                byte[] salt = Base64.getDecoder().decode(parts[2]);
                byte[] hash = Base64.getDecoder().decode(parts[3]);
                if (salt.length < 16 || hash.length < 16) {
                    throw new IllegalArgumentException("salt and hash must be at least 16 bytes each");
                }
                return new Hash(iterations, salt, hash);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith("salt") ? e.getMessage()
                        : "salt or hash is not Base64");
            }
        }
    }

    /** PBKDF2-HMAC-SHA256 of {@code password} with a fresh 16-byte salt. */
    static Hash hash(char[] password, int iterations) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return new Hash(iterations, salt, pbkdf2(password, salt, iterations, 32));
    }

    static byte[] pbkdf2(char[] password, byte[] salt, int iterations, int bytes) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
            try {
                return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            } finally {
                spec.clearPassword();
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JDK", e);
        }
    }

    static boolean verify(Hash stored, char[] password) {
        byte[] computed = pbkdf2(password, stored.salt(), stored.iterations(), stored.hash().length);
        return MessageDigest.isEqual(computed, stored.hash());
    }

    private final Path file;
    private Map<String, Hash> users = Map.of();
    private String stamp = "";

    Users(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** The users as of the file now; a missing file means no users. */
    synchronized Map<String, Hash> current() {
        String now;
        try {
            now = Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis();
        } catch (NoSuchFileException e) {
            users = Map.of();
            stamp = "";
            return users;
        } catch (IOException e) {
            LOG.warning("Cannot read " + file + ": " + e.getMessage());
            return users;
        }
        if (!now.equals(stamp)) {
            try {
                users = parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
                stamp = now;
            } catch (IOException e) {
                LOG.warning("Cannot read " + file + ": " + e.getMessage());
            }
        }
        return users;
    }

    static Map<String, Hash> parse(List<String> lines, String source) {
        Map<String, Hash> m = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String name = eq < 0 ? line : line.substring(0, eq).strip();
            try {
                if (eq < 0) {
                    throw new IllegalArgumentException("expected NAME=" + SCHEME + ":ITERATIONS:SALT:HASH");
                }
                if (!name.matches(NAME)) {
                    throw new IllegalArgumentException("user name '" + name + "' is not allowed (letters, digits, "
                            + "'.', '_', '@', '-'; at most 64)");
                }
                if (name.equals(Security.TOKEN_USER)) {
                    throw new IllegalArgumentException("user name '" + name + "' is reserved for the token");
                }
                m.put(name, Hash.parse(line.substring(eq + 1)));
            } catch (IllegalArgumentException e) {
                LOG.severe(source + " line " + (i + 1) + ": " + e.getMessage() + "; user '" + name
                        + "' cannot sign in until it is fixed");
            }
        }
        return m;
    }

    /** Checks a name and password; an unknown name costs the same time as a wrong password. */
    boolean check(String name, char[] password) {
        Hash h = current().get(name);
        if (h == null) {
            verify(new Hash(DEFAULT_ITERATIONS, new byte[16], new byte[32]), password);
            return false;
        }
        return verify(h, password);
    }
}
