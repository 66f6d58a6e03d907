package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsersTest {

    @TempDir
    Path tmp;

    @Test
    void aHashChecksItsPasswordAndNoOther() {
        Users.Hash h = Users.hash("correct horse".toCharArray(), Users.MIN_ITERATIONS);
        Users.Hash back = Users.Hash.parse(h.encode());
        assertThat(back.iterations()).isEqualTo(Users.MIN_ITERATIONS);
        assertThat(Users.verify(back, "correct horse".toCharArray())).isTrue();
        assertThat(Users.verify(back, "correct horsE".toCharArray())).isFalse();
        Users.Hash other = Users.hash("correct horse".toCharArray(), Users.MIN_ITERATIONS);
        assertThat(other.salt()).as("a fresh salt each time").isNotEqualTo(h.salt());
        assertThat(other.hash()).isNotEqualTo(h.hash());
    }

    @Test
    void pbkdf2MatchesTheRfc7914TestVector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64
        byte[] dk = Users.pbkdf2("passwd".toCharArray(), "salt".getBytes(), 1, 64);
        assertThat(java.util.HexFormat.of().formatHex(dk)).startsWith(
                "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    @Test
    void badLinesAreSkippedAndTheRestSignIn() {
        String good = "alice=" + Users.hash("s3cret-pass".toCharArray(), Users.MIN_ITERATIONS).encode();
        Map<String, Users.Hash> m = Users.parse(List.of("# users", "", good, "bob=md5:xyz", "token="
                + Users.hash("x".toCharArray(), Users.MIN_ITERATIONS).encode(), "no equals sign",
                "carol=pbkdf2-sha256:10:AAAAAAAAAAAAAAAAAAAAAA==:AAAAAAAAAAAAAAAAAAAAAA=="), "test");
        assertThat(m).containsOnlyKeys("alice");
    }

    @Test
    void theFileIsReadAgainWhenItChanges() throws Exception {
        Path f = tmp.resolve("console-users");
        Users users = new Users(f);
        assertThat(users.check("alice", "s3cret-pass".toCharArray())).as("no file: nobody").isFalse();
        Files.writeString(f, "alice=" + Users.hash("s3cret-pass".toCharArray(), Users.MIN_ITERATIONS).encode() + "\n");
        assertThat(users.check("alice", "s3cret-pass".toCharArray())).isTrue();
        assertThat(users.check("alice", "wrong".toCharArray())).isFalse();
        assertThat(users.check("mallory", "s3cret-pass".toCharArray())).isFalse();
        Files.writeString(f, "alice=" + Users.hash("new-pass-123".toCharArray(), Users.MIN_ITERATIONS).encode()
                + "\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertThat(users.check("alice", "s3cret-pass".toCharArray())).isFalse();
        assertThat(users.check("alice", "new-pass-123".toCharArray())).isTrue();
    }
}
