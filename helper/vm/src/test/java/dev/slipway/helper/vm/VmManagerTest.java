package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * The VM manager against a real file system: lifecycle with a stand-in emulator, and the attacks
 * on {@code vm.move-disk}, {@code vm.start} and {@code vm.destroy} that gave Docker Desktop's
 * Windows service its CVEs (client-chosen folders, links and junctions swapped in after a check).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmManagerTest {

    static final String ME = System.getProperty("user.name");
    static final Caller CALLER = new Caller(ME, ME);
    /** The tests run as root on CI: the emulator then runs as this account (vm-user). */
    static final String EMULATOR_USER = "nobody";

    Path root;
    Path vmDir;
    Path home;
    Path kernel;
    Path initrd;
    List<List<String>> launched = new ArrayList<>();
    ServerSocketChannel vmSocket;
    VmManager manager;

    @BeforeEach
    void setUp() throws IOException {
        root = TestRoot.create("manager");
        vmDir = root.resolve("var/lib/slipway/vm");
        home = TestRoot.dir(root, "home");
        TestRoot.dir(root, "home/.slipway");
        Path run = TestRoot.dir(root, "home/.slipway/run");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        vmSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        vmSocket.bind(UnixDomainSocketAddress.of(run.resolve("network.sock")));
        kernel = Files.writeString(root.resolve("vmlinuz"), "kernel");
        initrd = Files.writeString(root.resolve("initrd"), "initrd");
        manager = manager(p -> { });
    }

    @AfterEach
    void tearDown() throws Exception {
        if (manager != null) {
            manager.stop();
            manager.close();
        }
        if (vmSocket != null) {
            vmSocket.close();
        }
        TestRoot.delete(root);
    }

    VmManager manager(Consumer<Path> betweenChecks) {
        return manager(betweenChecks, Optional.empty());
    }

    VmManager manager(Consumer<Path> betweenChecks, Optional<String> installingUser) {
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel), Optional.of(initrd), "console=ttyS0", 64, 1,
                1L << 30, "tcg", ".slipway/run/vm.sock", "root", installingUser, List.of(), Optional.of(EMULATOR_USER));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        QemuBackend real = new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent/kvm"), ME.equals("root"));
        VmBackend standIn = new VmBackend() {
            @Override public Accelerator accelerator(String configured, Account account) {
                return real.accelerator(configured, account);
            }
            @Override public void kvmFailedAtStart(Account account, String why) { }
            @Override public List<String> command(Launch launch) {
                launched.add(real.command(launch));
                // stands in for the emulator: alive until stopped, holding nothing
                return List.of("sleep", "120");
            }
        };
        return new VmManager(settings, standIn, accounts, betweenChecks);
    }

    Path disk() {
        return vmDir.resolve(VmManager.DISK);
    }

    @Test
    void createMakesOneSparseDiskOnlyRootCanReadAndIsIdempotent() throws Exception {
        Map<String, Object> first = manager.create(CALLER);
        assertEquals(true, first.get("created"));
        PosixFileAttributes a = Files.readAttributes(disk(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertEquals(1L << 30, a.size());
        assertEquals("rw-------", PosixFilePermissions.toString(a.permissions()));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(vmDir)));
        assertEquals(false, manager.create(CALLER).get("created"));
        assertEquals("stopped", manager.status().get("state"));
    }

    @Test
    void startStatusStopRunTheEmulatorOnTheCheckedDiskAndTheCallersSocket() throws Exception {
        assertEquals("absent", manager.status().get("state"));
        manager.create(CALLER);
        Map<String, Object> started = manager.start(CALLER);
        assertEquals(true, started.get("started"));
        assertEquals("running", manager.status().get("state"));
        assertEquals("tcg", manager.status().get("accelerator"));
        String command = String.join(" ", launched.get(0));
        assertTrue(command.contains("-netdev stream,id=n0,server=on,addr.type=fd,addr.str=3"), "the network card listens on a descriptor: " + command);
        assertTrue(command.contains("-add-fd fd=4,set=1 -add-fd fd=6,set=1 -drive file=/dev/fdset/1,format=raw"), "so does the disk: " + command);
        assertTrue(command.contains("-add-fd fd=5,set=2 -chardev file,id=console,path=/dev/fdset/2"), command);
        assertFalse(command.contains(vmDir.toString()), "the emulator opens nothing in the state directory by name: " + command);
        assertTrue(command.contains("-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"), command);
        assertTrue(command.startsWith("setpriv "), command);
        if (ME.equals("root")) {
            assertTrue(command.contains("--reuid=65534 --regid=65534 --clear-groups"), command);
        }
        assertEquals("configured", manager.status().get("acceleratorReason"));
        assertEquals(false, manager.start(CALLER).get("started"), "a second start is a no-op");
        assertEquals(true, manager.stop().get("stopped"));
        assertEquals("stopped", manager.status().get("state"));
        assertTrue(Files.isReadable(vmDir.resolve("console.log")));
    }

    @Test
    void startRefusesAVmSocketThatIsALinkOrMissing() throws Exception {
        manager.create(CALLER);
        Path socket = home.resolve(".slipway/run/network.sock");
        Files.delete(socket);
        HelperException missing = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertEquals(HelperErrors.UNAVAILABLE, missing.code());
        Path victim = Files.writeString(root.resolve("victim.sock"), "not a socket");
        Files.createSymbolicLink(socket, victim);
        HelperException link = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertEquals(HelperErrors.REFUSED, link.code());
        assertTrue(launched.isEmpty(), "no emulator was launched");
    }

    @Test
    void startRefusesWhenADirectoryAboveTheSocketIsALink() throws Exception {
        manager.create(CALLER);
        Path real = TestRoot.dir(root, "elsewhere");
        Path runLink = home.resolve(".slipway/run");
        Files.move(runLink, real.resolve("run"));
        Files.createSymbolicLink(runLink, real.resolve("run"));
        HelperException e = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(launched.isEmpty());
    }

    @Test
    void moveDiskMovesIntoATrustedDirectoryAndTheVmFollowsIt() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "data/disks");
        Map<String, Object> moved = manager.moveDisk(dest, CALLER);
        assertEquals(dest.resolve(VmManager.DISK).toString(), moved.get("disk"));
        assertFalse(Files.exists(disk()));
        assertTrue(Files.isRegularFile(dest.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
        assertEquals(dest.resolve(VmManager.DISK).toString(), manager.status().get("disk"));
        manager.start(CALLER);
        assertEquals("running", manager.status().get("state"));
        HelperException busy = assertThrows(HelperException.class, () -> manager.moveDisk(vmDir, CALLER));
        assertEquals(HelperErrors.CONFLICT, busy.code(), "a running VM's disk stays where it is");
        manager.stop();
        manager.moveDisk(vmDir, CALLER);
        assertTrue(Files.exists(disk()));
        assertEquals(disk().toString(), manager.status().get("disk"));
    }

    @Test
    void moveDiskRefusesADestinationThatIsALink() throws Exception {
        manager.create(CALLER);
        Path target = TestRoot.dir(root, "target");
        Path link = root.resolve("link");
        Files.createSymbolicLink(link, target);
        assertRefusedAndNothingMoved(link, target);
    }

    @Test
    void moveDiskRefusesALinkAnywhereInTheChain() throws Exception {
        manager.create(CALLER);
        Path target = TestRoot.dir(root, "real/inner");
        Files.createSymbolicLink(root.resolve("alias"), root.resolve("real"));
        assertRefusedAndNothingMoved(root.resolve("alias/inner"), target);
    }

    @Test
    void moveDiskRefusesADestinationThatBecomesALinkAfterTheCheck() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "checked");
        Path victim = TestRoot.dir(root, "victim");
        manager = manager(checked -> {
            try {
                Files.delete(checked);
                Files.createSymbolicLink(checked, victim);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(dest, CALLER));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(Files.exists(disk()), "the disk stays where it was");
        assertNothingIn(victim);
    }

    @Test
    void moveDiskRefusesAParentThatBecomesALinkAfterTheCheck() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "parent/child");
        Path victimParent = TestRoot.dir(root, "victim-parent");
        Path victim = TestRoot.dir(root, "victim-parent/child");
        manager = manager(checked -> {
            try {
                Files.move(root.resolve("parent"), root.resolve("parent-was"));
                Files.createSymbolicLink(root.resolve("parent"), victimParent);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(dest, CALLER));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(Files.exists(disk()));
        assertNothingIn(victim);
        assertNothingIn(root.resolve("parent-was/child"));
    }

    @Test
    void moveDiskRefusesDirectoriesOthersCanWrite() throws Exception {
        manager.create(CALLER);
        Path groupWritable = TestRoot.dir(root, "group");
        Files.setPosixFilePermissions(groupWritable, PosixFilePermissions.fromString("rwxrwxr-x"));
        assertRefusedAndNothingMoved(groupWritable, groupWritable);
        Path worldWritableParent = TestRoot.dir(root, "world");
        Path inside = TestRoot.dir(worldWritableParent, "inside");
        Files.setPosixFilePermissions(worldWritableParent, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertRefusedAndNothingMoved(inside, inside);
    }

    @Test
    void moveDiskRefusesADirectoryOfAnotherOwner() throws Exception {
        Assumptions.assumeTrue(ME.equals("root"), "needs root to give a directory to another owner: run the tests as root (CI does)");
        manager.create(CALLER);
        Path foreign = TestRoot.dir(root, "foreign");
        Files.setOwner(foreign, foreign.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        assertRefusedAndNothingMoved(foreign, foreign);
    }

    @Test
    void moveDiskAcceptsTheInstallingUsersDirectoryAndNoOtherUsers() throws Exception {
        Assumptions.assumeTrue(ME.equals("root"), "needs root to give directories to other owners: run the tests as root (CI does)");
        manager = manager(p -> { }, Optional.of("nobody"));
        manager.create(CALLER);
        var users = root.getFileSystem().getUserPrincipalLookupService();
        Path others = TestRoot.dir(root, "daemons");
        Files.setOwner(others, users.lookupPrincipalByName("daemon"));
        assertRefusedAndNothingMoved(others, others);
        Path installers = TestRoot.dir(root, "installers");
        Files.setOwner(installers, users.lookupPrincipalByName("nobody"));
        manager.moveDisk(installers, CALLER);
        assertTrue(Files.isRegularFile(installers.resolve(VmManager.DISK), LinkOption.NOFOLLOW_LINKS));
        assertEquals("root", Files.getOwner(installers.resolve(VmManager.DISK)).getName(), "the disk stays the helper's");
    }

    @Test
    void moveDiskNeverOverwritesAFileAtTheDestination() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "occupied");
        Files.writeString(dest.resolve(VmManager.DISK), "precious");
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(dest, CALLER));
        assertEquals(HelperErrors.CONFLICT, e.code());
        assertEquals("precious", Files.readString(dest.resolve(VmManager.DISK)));
        assertTrue(Files.exists(disk()));
    }

    @Test
    void moveDiskRefusesRelativeAndMissingDestinations() throws Exception {
        manager.create(CALLER);
        assertEquals(HelperErrors.INVALID, assertThrows(HelperException.class,
                () -> manager.moveDisk(Path.of("relative"), CALLER)).code());
        assertEquals(HelperErrors.INVALID, assertThrows(HelperException.class,
                () -> manager.moveDisk(root.resolve("a/../b"), CALLER)).code());
        assertEquals(HelperErrors.INVALID, assertThrows(HelperException.class,
                () -> manager.moveDisk(root.resolve("missing"), CALLER)).code());
        assertTrue(Files.exists(disk()));
    }

    @Test
    void startRefusesAMovedDiskSwappedForALink() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "disks");
        manager.moveDisk(dest, CALLER);
        Path victim = Files.writeString(root.resolve("victim.img"), "system file");
        Files.delete(dest.resolve(VmManager.DISK));
        Files.createSymbolicLink(dest.resolve(VmManager.DISK), victim);
        assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertTrue(launched.isEmpty(), "no emulator was launched");
        assertEquals("system file", Files.readString(victim));
    }

    @Test
    void startRefusesAMovedDiskSwappedForAHardLinkToARootFile() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "disks");
        manager.moveDisk(dest, CALLER);
        Path victim = Files.writeString(root.resolve("victim.img"), "system file");
        Files.delete(dest.resolve(VmManager.DISK));
        Files.createLink(dest.resolve(VmManager.DISK), victim);
        HelperException e = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertEquals(HelperErrors.REFUSED, e.code(), e.getMessage());
        assertTrue(launched.isEmpty(), "no emulator was launched");
        assertEquals("system file", Files.readString(victim));
        manager.destroy(CALLER);
        assertEquals("system file", Files.readString(victim), "destroy deletes only the disk it made");
    }

    @Test
    void destroyDeletesTheDiskWhereverItIsButNotThroughALink() throws Exception {
        manager.create(CALLER);
        Path dest = TestRoot.dir(root, "disks");
        manager.moveDisk(dest, CALLER);
        Path victim = Files.writeString(root.resolve("victim.img"), "system file");
        Files.delete(dest.resolve(VmManager.DISK));
        Files.createSymbolicLink(dest.resolve(VmManager.DISK), victim);
        manager.destroy(CALLER);
        assertEquals("system file", Files.readString(victim), "a link's target is never deleted");
        assertEquals("absent", manager.status().get("state"));

        manager.create(CALLER);
        manager.moveDisk(TestRoot.dir(root, "disks2"), CALLER);
        manager.destroy(CALLER);
        assertFalse(Files.exists(root.resolve("disks2").resolve(VmManager.DISK)));
        assertEquals("absent", manager.status().get("state"));
    }

    private void assertRefusedAndNothingMoved(Path destination, Path watched) throws IOException {
        HelperException e = assertThrows(HelperException.class, () -> manager.moveDisk(destination, CALLER));
        assertEquals(HelperErrors.REFUSED, e.code(), e.getMessage());
        assertTrue(Files.exists(disk()), "the disk stays where it was");
        assertNothingIn(watched);
    }

    private static void assertNothingIn(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            assertEquals(List.of(), entries.toList(), "nothing was written into " + dir);
        }
    }
}
