package dev.cornerstone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiTokenTest {

    @TempDir
    Path dir;

    @Test
    void createdOnceOwnerOnlyThenReused() throws Exception {
        Path f = dir.resolve("conf/api-token");
        ApiToken.Created first = ApiToken.readOrCreate(f);
        assertThat(first.isNew()).isTrue();
        assertThat(first.token()).hasSize(64).matches("[0-9a-f]+");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        ApiToken.Created again = ApiToken.readOrCreate(f);
        assertThat(again.isNew()).isFalse();
        assertThat(again.token()).isEqualTo(first.token());
    }

    @Test
    void matchesOnlyTheExactToken() {
        assertThat(ApiToken.matches("abc", "abc")).isTrue();
        assertThat(ApiToken.matches("abc", "abd")).isFalse();
        assertThat(ApiToken.matches("abc", "ab")).isFalse();
        assertThat(ApiToken.matches("abc", null)).isFalse();
    }
}
