package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class InstallConfigurationTest {

    @TempDir
    Path dir;

    private Path config(String text, String mode) throws IOException {
        Path file = dir.resolve("helper.properties");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void frameworkPropertiesWinOverTheInstallConfiguration() throws IOException {
        Path file = config("group=docker-ish\nuser=alice\n", "rw-r--r--");
        InstallConfiguration settings = new InstallConfiguration(Map.of("slipway.helper.group", "slipway-users")::get, file);
        assertEquals(Optional.of("slipway-users"), settings.get("group"));
        assertEquals(Optional.of("alice"), settings.get("user"));
        assertEquals(Optional.empty(), settings.get("socket"));
    }

    @Test
    void aConfigurationWritableByOthersIsNotTrusted() throws IOException {
        Path file = config("user=mallory\n", "rw-rw-rw-");
        IOException e = assertThrows(IOException.class, () -> new InstallConfiguration(k -> null, file));
        assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
    }

    @Test
    void aConfigurationThatIsASymlinkIsNotTrusted() throws IOException {
        Path target = config("user=mallory\n", "rw-r--r--");
        Path link = dir.resolve("link.properties");
        Files.createSymbolicLink(link, target);
        IOException e = assertThrows(IOException.class, () -> new InstallConfiguration(k -> null, link));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void aMissingConfigurationMeansDefaults() throws IOException {
        assertEquals(Optional.empty(), new InstallConfiguration(k -> null, dir.resolve("none")).get("group"));
    }
}
