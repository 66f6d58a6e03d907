package dev.cornerstone.data.text;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * A classification set cut into training and validation by a stable hash, never at random: an
 * example is in validation when the first 8 bytes of the SHA-256 of its {@link
 * ClassificationExample#splitKey() key} (its {@code id}, else its text), read as an unsigned
 * big-endian number and scaled to {@code [0, 1)}, are below {@code fraction}.
 *
 * <p>So the split is the same on every run, machine and JVM, does not depend on the order of the
 * file, and an example keeps its side when others are added or removed. The validation share is
 * {@code fraction} on average, not exactly. In Python the position is
 * {@code (int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 11) / 2**53}.
 *
 * @param train      the examples outside validation, in file order
 * @param validation the examples in validation, in file order
 */
public record ClassificationSplit(List<ClassificationExample> train, List<ClassificationExample> validation) {

    public ClassificationSplit {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
    }

    /**
     * @param fraction the expected validation share, in {@code [0, 1]}
     * @throws IllegalArgumentException when {@code fraction} is outside {@code [0, 1]}
     */
    public static ClassificationSplit of(List<ClassificationExample> examples, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("validation fraction " + fraction + " is out of range; allowed: a number in [0, 1]");
        }
        var train = new ArrayList<ClassificationExample>();
        var validation = new ArrayList<ClassificationExample>();
        for (ClassificationExample example : examples) {
            (position(example.splitKey()) < fraction ? validation : train).add(example);
        }
        return new ClassificationSplit(train, validation);
    }

    /** Where {@code key} falls in {@code [0, 1)}: the top 53 bits of its SHA-256, as a double. */
    public static double position(String key) {
        byte[] digest = sha256().digest(key.getBytes(StandardCharsets.UTF_8));
        long top = ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
        // 53 bits: every value is exact in a double and the result stays below 1.
        return (top >>> 11) * 0x1.0p-53;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
