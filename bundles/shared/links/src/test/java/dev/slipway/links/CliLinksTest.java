package dev.slipway.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class CliLinksTest {

    @TempDir
    Path root;
    Path bin;
    Path install;
    CliLinks links;

    @BeforeEach
    void layout() throws IOException {
        bin = Files.createDirectories(root.resolve("usr/local/bin"));
        install = Files.createDirectories(root.resolve("opt/slipway"));
        Files.createDirectories(install.resolve("bin"));
        for (String tool : List.of("docker", "kubectl")) {
            Files.writeString(install.resolve("bin").resolve(tool), "#!/bin/sh\n");
        }
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        links = new CliLinks(bin, install, List.of("docker", "kubectl", "docker-compose"), System.getProperty("user.name"));
    }

    @Test
    void installLinksEveryToolThatIsInstalledAndIsIdempotent() throws IOException {
        assertEquals(Map.of("docker", "created", "kubectl", "created"), links.install());
        assertEquals(install.resolve("bin/docker"), Files.readSymbolicLink(bin.resolve("docker")));
        assertFalse(Files.exists(bin.resolve("docker-compose"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(Map.of("docker", "unchanged", "kubectl", "unchanged"), links.install());
        try (var entries = Files.list(bin)) {
            assertEquals(2, entries.count(), "no temporary links left behind");
        }
    }

    @Test
    void aStaleSlipwayLinkIsReplacedAtomically() throws IOException {
        Files.createSymbolicLink(bin.resolve("docker"), install.resolve("old/docker"));
        assertEquals("replaced", links.install().get("docker"));
        assertEquals(install.resolve("bin/docker"), Files.readSymbolicLink(bin.resolve("docker")));
    }

    @Test
    void aForeignFileIsLeftAloneAndNothingIsChanged() throws IOException {
        Files.writeString(bin.resolve("docker"), "someone else's docker");
        CliLinks.ConflictException e = assertThrows(CliLinks.ConflictException.class, links::install);
        assertTrue(e.getMessage().contains("not a Slipway link"), e.getMessage());
        assertEquals("someone else's docker", Files.readString(bin.resolve("docker")));
        assertFalse(Files.exists(bin.resolve("kubectl"), LinkOption.NOFOLLOW_LINKS), "all or nothing");
    }

    @Test
    void aForeignLinkIsLeftAloneEvenOnRemove() throws IOException {
        Path other = Files.createDirectories(root.resolve("Applications/Docker.app/bin")).resolve("docker");
        Files.writeString(other, "");
        Files.createSymbolicLink(bin.resolve("docker"), other);
        assertThrows(CliLinks.ConflictException.class, links::install);
        assertEquals(other, Files.readSymbolicLink(bin.resolve("docker")));
        assertEquals("not Slipway's, left alone", links.remove().get("docker"));
        assertEquals(other, Files.readSymbolicLink(bin.resolve("docker")));
    }

    @Test
    void aLinkThatEscapesTheInstallDirWithDotDotIsNotSlipways() throws IOException {
        Files.createSymbolicLink(bin.resolve("docker"), install.resolve("bin/../../evil/docker"));
        assertThrows(CliLinks.ConflictException.class, links::install);
    }

    @Test
    void removeDeletesOnlySlipwaysLinks() throws IOException {
        links.install();
        Files.writeString(bin.resolve("docker-compose"), "foreign");
        Map<String, String> removed = links.remove();
        assertEquals("removed", removed.get("docker"));
        assertEquals("removed", removed.get("kubectl"));
        assertEquals("not Slipway's, left alone", removed.get("docker-compose"));
        assertEquals("foreign", Files.readString(bin.resolve("docker-compose")));
    }

    @Test
    void aBinDirWritableByOthersIsRefused() throws IOException {
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, links::install);
        assertTrue(e.getMessage().contains("writable by everyone"), e.getMessage());
    }

    @Test
    void aBinDirThatIsASymlinkIsRefused() throws IOException {
        Path elsewhere = Files.createDirectories(root.resolve("elsewhere"));
        Path linkedBin = root.resolve("linked-bin");
        Files.createSymbolicLink(linkedBin, elsewhere);
        IOException e = assertThrows(IOException.class,
                () -> new CliLinks(linkedBin, install, List.of("docker"), System.getProperty("user.name")).install());
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }
}
