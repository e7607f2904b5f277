package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.testing.Commands;
import dev.slipway.testing.TestUsers;

/**
 * {@code vm.move-disk} as a member of slipway-users attacks it: park the disk in a directory of
 * theirs, put a file of their own (or a hard link to a root file, or a FIFO) in its place, then
 * move "the disk" somewhere root owns. The helper moves, copies and boots only the file it made.
 * Needs root (real users, a tmpfs for the other file system).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DiskSwapAttackTest {

    static final String PLANTED = "* * * * * root /bin/sh -c 'id > /tmp/owned'\n";

    static Members users;

    Path root;
    Path vmDir;
    Path aliceDir;
    Path aliceTmpfs;
    Path cronD;
    Caller alice;
    VmManager manager;

    @BeforeAll
    static void createUsers() throws Exception {
        users = Members.create();
    }

    @AfterAll
    static void removeUsers() {
        if (users != null) {
            users.close();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        root = TestRoot.create("swap");
        vmDir = root.resolve("var/lib/slipway/vm");
        alice = users.caller(users.alice);
        aliceDir = TestRoot.dir(root, "home-alice");
        TestUsers.own(aliceDir, users.alice);
        aliceTmpfs = TestRoot.dir(root, "tmpfs-alice");
        Commands.check("mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "slipway-test", aliceTmpfs.toString());
        TestUsers.own(aliceTmpfs, users.alice);
        cronD = TestRoot.dir(root, "etc/cron.d");
        manager = manager(p -> { });
        manager.create(alice);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (manager != null) {
            manager.close();
        }
        if (aliceTmpfs != null) {
            Commands.quietly("umount", aliceTmpfs.toString());
        }
        TestRoot.delete(root);
    }

    VmManager manager(Consumer<Path> betweenChecks) {
        return manager(betweenChecks, List.of());
    }

    VmManager manager(Consumer<Path> betweenChecks, List<Path> diskDirectories) {
        var settings = new VmManager.Settings(vmDir, Optional.empty(), Optional.empty(), "console=ttyS0", 64, 1,
                1L << 20, "tcg", ".slipway/run/vm.sock", "root", Optional.empty(), diskDirectories,
                Optional.of("nobody"));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root); }
        };
        return new VmManager(settings, new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent/kvm"), true), accounts,
                betweenChecks);
    }

    @Test
    void theTmpfsIsAnotherFileSystemThanTheVmDirectory() throws IOException {
        assertNotEquals(Files.getFileStore(vmDir).name(), Files.getFileStore(aliceTmpfs).name(),
                "the cross-file-system tests need the tmpfs to be another file system");
    }

    @Test
    void aMemberCannotMoveTheDiskIntoARootOwnedDirectory() throws Exception {
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(cronD, alice));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(e.getMessage().contains("is owned by root") && e.getMessage().contains(HelperSettings.VM_DISK_DIRS),
                e.getMessage());
        assertNothingIn(cronD);
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)), "the disk stays where it was");
    }

    @Test
    void aSwappedDiskOnTheSameFileSystemIsNeitherMovedNorBooted() throws Exception {
        manager.moveDisk(aliceDir, alice);
        plant(aliceDir.resolve(VmManager.DISK));
        assertThrows(HelperException.class, () -> manager.moveDisk(cronD, alice));
        assertNotTheDisk(() -> manager.moveDisk(vmDir, alice));
        assertNotTheDisk(() -> manager.moveDisk(aliceSubdirectory(), alice));
        assertNothingIn(cronD);
        assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS), "nothing entered the VM directory");
        assertEquals(PLANTED, Files.readString(aliceDir.resolve(VmManager.DISK)), "the member's own file is left as it was");
    }

    @Test
    void aSwappedDiskOnAnotherFileSystemIsNeverCopied() throws Exception {
        manager.moveDisk(aliceTmpfs, alice);
        plant(aliceTmpfs.resolve(VmManager.DISK));
        assertThrows(HelperException.class, () -> manager.moveDisk(cronD, alice));
        assertNotTheDisk(() -> manager.moveDisk(vmDir, alice));
        assertNotTheDisk(() -> manager.moveDisk(aliceDir, alice));
        assertNothingIn(cronD);
        assertNothingIn(aliceDir);
        assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
        assertEquals(PLANTED, Files.readString(aliceTmpfs.resolve(VmManager.DISK)));
    }

    @Test
    void aHardLinkToARootFileInPlaceOfTheDiskIsRefused() throws Exception {
        Path shadow = Files.writeString(root.resolve("shadow"), "root:secret:1:0:99999:7:::\n");
        Files.setPosixFilePermissions(shadow, PosixFilePermissions.fromString("rw-r-----"));
        manager.moveDisk(aliceDir, alice);
        Files.delete(aliceDir.resolve(VmManager.DISK));
        // fs.protected_hardlinks stops a member here on most systems; root makes the link to stand for one without it
        Files.createLink(aliceDir.resolve(VmManager.DISK), shadow);
        assertNotTheDisk(() -> manager.moveDisk(vmDir, alice));
        assertNotTheDisk(() -> manager.moveDisk(aliceSubdirectory(), alice));
        assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
        assertEquals(2, Files.getAttribute(shadow, "unix:nlink"), "the root file keeps exactly its two names");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(shadow)));
    }

    @Test
    void aFifoInPlaceOfTheDiskIsRefusedWithoutHanging() throws Exception {
        manager.moveDisk(aliceTmpfs, alice);
        Files.delete(aliceTmpfs.resolve(VmManager.DISK));
        Commands.check("mkfifo", aliceTmpfs.resolve(VmManager.DISK).toString());
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(vmDir, alice));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aDiskThatGrowsBeforeTheCopyIsRefusedAndNeverCopiedPastItsSize() throws Exception {
        manager.moveDisk(aliceTmpfs, alice);
        Path disk = aliceTmpfs.resolve(VmManager.DISK);
        long size = Files.size(disk);
        manager = manager(destination -> {
            try {
                Files.writeString(disk, PLANTED, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            manager.moveDisk(vmDir, alice);
            assertEquals(size, Files.size(vmDir.resolve(VmManager.DISK)), "copied no byte past the recorded size");
        } catch (HelperException refused) {
            assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
            assertTrue(Files.exists(disk), "the disk stays where it was");
        }
    }

    @Test
    void evenAnAllowListedRootDirectoryGetsOnlyTheRealDisk() throws Exception {
        manager = manager(p -> { }, List.of(cronD));
        manager.moveDisk(aliceTmpfs, alice);
        plant(aliceTmpfs.resolve(VmManager.DISK));
        assertNotTheDisk(() -> manager.moveDisk(cronD, alice));
        assertNothingIn(cronD);
    }

    @Test
    void aDiskWithASecondNameIsNotMoved() throws Exception {
        manager.moveDisk(aliceDir, alice);
        Files.createLink(aliceDir.resolve("keep.img"), aliceDir.resolve(VmManager.DISK));
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(vmDir, alice));
        assertTrue(e.getMessage().contains("2 names"), e.getMessage());
        assertFalse(Files.exists(vmDir.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void theRealDiskStillMovesBetweenFileSystemsAndBack() throws Exception {
        manager.moveDisk(aliceTmpfs, alice);
        assertEquals("root", Files.getOwner(aliceTmpfs.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS).getName());
        manager.moveDisk(aliceDir, alice);
        assertFalse(Files.exists(aliceTmpfs.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
        manager.moveDisk(vmDir, alice);
        assertEquals(1L << 20, Files.size(vmDir.resolve(VmManager.DISK)));
        assertNothingIn(aliceDir);
    }

    private Path aliceSubdirectory() throws IOException {
        Path deeper = TestRoot.dir(aliceDir, "deeper");
        TestUsers.own(deeper, users.alice);
        return deeper;
    }

    private static void assertNotTheDisk(org.junit.jupiter.api.function.Executable move) {
        HelperException e = assertThrows(HelperException.class, move);
        assertEquals(HelperErrors.REFUSED, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("not the disk the helper created"), e.getMessage());
    }

    /** The member's move: their own file, their own mode, in place of the disk. */
    private static void plant(Path disk) throws IOException {
        Files.delete(disk);
        Files.writeString(disk, PLANTED);
        Files.setPosixFilePermissions(disk, PosixFilePermissions.fromString("rw-r--r--"));
        TestUsers.own(disk, users.alice);
    }

    private static void assertNothingIn(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            assertEquals(List.of(), entries.toList(), "nothing was written into " + dir);
        }
    }
}
