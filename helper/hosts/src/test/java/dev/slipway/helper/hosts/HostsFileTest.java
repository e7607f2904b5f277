package dev.slipway.helper.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HostsConventions.WriteStrategy;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HostsFileTest {

    private static final String ORIGINAL = "127.0.0.1 localhost\n10.0.0.5 nas\n";

    @TempDir
    Path dir;

    private static HostsContent ensure(HostsContent c) throws HostsContent.MalformedHostsException {
        return c.withBlock(HostsOperations.entries(c, Optional.empty()), "\n");
    }

    private Path hosts(String content) throws IOException {
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, content);
        return hosts;
    }

    @Test
    void renameStrategyWritesTheBlockAndKeepsModeAndLeavesNoTempFile() throws Exception {
        Path hosts = hosts(ORIGINAL);
        Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
        Object inodeBefore = Files.readAttributes(hosts, "unix:ino").get("ino");
        assertTrue(new HostsFile(hosts, WriteStrategy.REPLACE_BY_RENAME).update(HostsFileTest::ensure));
        assertTrue(Files.readString(hosts).startsWith(ORIGINAL));
        assertTrue(Files.readString(hosts).contains("kubernetes.docker.internal"));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(hosts)));
        assertFalse(inodeBefore.equals(Files.readAttributes(hosts, "unix:ino").get("ino")), "a new inode was renamed in");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
        assertFalse(new HostsFile(hosts, WriteStrategy.REPLACE_BY_RENAME).update(HostsFileTest::ensure), "idempotent: no rewrite");
    }

    @Test
    void renameStrategyKeepsUserExtendedAttributes() throws Exception {
        Path hosts = hosts(ORIGINAL);
        UserDefinedFileAttributeView view = Files.getFileAttributeView(hosts, UserDefinedFileAttributeView.class);
        try {
            view.write("slipway.test", ByteBuffer.wrap("kept".getBytes(StandardCharsets.UTF_8)));
        } catch (IOException | UnsupportedOperationException e) {
            Assumptions.assumeTrue(false, "the test directory's file system has no user xattrs: " + e);
        }
        new HostsFile(hosts, WriteStrategy.REPLACE_BY_RENAME).update(HostsFileTest::ensure);
        ByteBuffer value = ByteBuffer.allocate(16);
        Files.getFileAttributeView(hosts, UserDefinedFileAttributeView.class).read("slipway.test", value);
        assertEquals("kept", new String(value.array(), 0, value.position(), StandardCharsets.UTF_8));
    }

    @Test
    void aSymlinkAtTheHostsPathIsNotWrittenThrough() throws Exception {
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "do not touch\n");
        Path hosts = dir.resolve("hosts");
        Files.createSymbolicLink(hosts, victim);
        for (WriteStrategy strategy : WriteStrategy.values()) {
            IOException e = assertThrows(IOException.class, () -> new HostsFile(hosts, strategy).update(HostsFileTest::ensure));
            assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
            assertEquals("do not touch\n", Files.readString(victim));
            assertTrue(Files.isSymbolicLink(hosts));
        }
    }

    @Test
    void theHostsFileSwappedForASymlinkBetweenCheckAndWriteLeavesTheOtherFileUntouched() throws Exception {
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "precious\n");
        for (WriteStrategy strategy : WriteStrategy.values()) {
            Path hosts = hosts(ORIGINAL);
            HostsFile file = new HostsFile(hosts, strategy, () -> {
                Files.delete(hosts);
                Files.createSymbolicLink(hosts, victim);
            });
            IOException e = assertThrows(IOException.class, () -> file.update(HostsFileTest::ensure), strategy.name());
            assertTrue(e.getMessage().contains("replaced") || e.getMessage().contains("link"), e.getMessage());
            assertEquals("precious\n", Files.readString(victim), strategy.name());
            Files.delete(hosts);
        }
    }

    @Test
    void aReadOnlyHostsFileIsAClearErrorAndUnchanged() throws Exception {
        Path hosts = hosts(ORIGINAL);
        Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("r--r--r--"));
        for (WriteStrategy strategy : WriteStrategy.values()) {
            IOException e = assertThrows(IOException.class, () -> new HostsFile(hosts, strategy).update(HostsFileTest::ensure));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            assertEquals(ORIGINAL, Files.readString(hosts));
        }
    }

    @Test
    void inPlaceStrategyKeepsTheInodeAndLeavesABackup() throws Exception {
        Path hosts = hosts(ORIGINAL);
        Object inode = Files.readAttributes(hosts, "unix:ino").get("ino");
        assertTrue(new HostsFile(hosts, WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP).update(HostsFileTest::ensure));
        assertEquals(inode, Files.readAttributes(hosts, "unix:ino").get("ino"));
        assertTrue(Files.readString(hosts).contains("kubernetes.docker.internal"));
        assertEquals(ORIGINAL, Files.readString(dir.resolve("hosts.slipway.bak")));
        assertFalse(Files.exists(dir.resolve("hosts.slipway.pending")));
        assertTrue(new HostsFile(hosts, WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP).update(HostsContent::withoutBlock));
        assertEquals(ORIGINAL, Files.readString(hosts));
    }

    @Test
    void anInterruptedInPlaceRewriteIsRestoredFromTheBackup() throws Exception {
        Path hosts = hosts(ORIGINAL);
        HostsFile crashing = new HostsFile(hosts, WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP, () -> {
            Files.writeString(hosts, "127.0.0.1 loc"); // a torn write, then the process dies
            throw new SimulatedCrash(); // an Error: no cleanup code runs, as after kill -9
        });
        assertThrows(SimulatedCrash.class, () -> crashing.update(HostsFileTest::ensure));
        assertTrue(Files.exists(dir.resolve("hosts.slipway.pending")));
        HostsFile next = new HostsFile(hosts, WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP);
        assertTrue(next.update(HostsFileTest::ensure));
        assertTrue(Files.readString(hosts).startsWith(ORIGINAL), Files.readString(hosts));
        assertFalse(Files.exists(dir.resolve("hosts.slipway.pending")));
    }

    @Test
    void staleTempFilesFromACrashAreRemoved() throws Exception {
        Path hosts = hosts(ORIGINAL);
        Path stale = dir.resolve(".hosts.slipway-abc.tmp");
        Files.writeString(stale, "half");
        new HostsFile(hosts, WriteStrategy.REPLACE_BY_RENAME).update(HostsFileTest::ensure);
        assertFalse(Files.exists(stale, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aMissingHostsFileIsAClearError() {
        IOException e = assertThrows(IOException.class,
                () -> new HostsFile(dir.resolve("nope"), WriteStrategy.REPLACE_BY_RENAME).update(HostsFileTest::ensure));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    private static final class SimulatedCrash extends Error {
        private static final long serialVersionUID = 1L;
    }
}
