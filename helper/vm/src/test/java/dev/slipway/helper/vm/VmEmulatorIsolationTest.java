package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Accounts;

/**
 * What {@code vm.start} hands the emulator and as whom it runs, with a stand-in emulator: the
 * runtime's socket swapped for a link to another root-only socket between the check and the
 * connect, a socket served by another uid, the descriptors and credentials the emulator process
 * really holds, and {@code auto} falling back to TCG when KVM dies at start.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmEmulatorIsolationTest {

    static final String ME = System.getProperty("user.name");
    static final boolean ROOT = ME.equals("root");
    static final Caller CALLER = new Caller(ME, ME);

    Path root;
    Path vmDir;
    Path home;
    Path run;
    Path kernel;
    ServerSocketChannel vmSocket;
    ServerSocketChannel otherSocket;
    Path otherSocketPath;
    VmManager manager;

    @BeforeEach
    void setUp() throws IOException {
        root = TestRoot.create("iso");
        vmDir = root.resolve("vm");
        home = TestRoot.dir(root, "home");
        TestRoot.dir(root, "home/.slipway");
        run = TestRoot.dir(root, "home/.slipway/run");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        vmSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        vmSocket.bind(UnixDomainSocketAddress.of(run.resolve("network.sock")));
        vmSocket.configureBlocking(false);
        // another root-only stream socket: what a member would like the helper to talk to
        Path secret = TestRoot.dir(root, "secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        otherSocketPath = secret.resolve("root-only.sock");
        otherSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        otherSocket.bind(UnixDomainSocketAddress.of(otherSocketPath));
        otherSocket.configureBlocking(false);
        kernel = Files.writeString(root.resolve("vmlinuz"), "kernel");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (manager != null) {
            manager.stop();
            manager.close();
        }
        vmSocket.close();
        otherSocket.close();
        TestRoot.delete(root);
    }

    VmManager manager(VmBackend backend, String accelerator, Runnable betweenSocketCheckAndConnect) {
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel), Optional.of(kernel), "console=ttyS0", 64, 1,
                1L << 20, accelerator, ".slipway/run/vm.sock", "root", Optional.empty(), List.of(), Optional.of("nobody"));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        return new VmManager(settings, backend, accounts, p -> { }, betweenSocketCheckAndConnect);
    }

    /** QEMU's privilege drop, then {@code sleep} in place of the emulator: it holds what QEMU would. */
    VmBackend sleeper() {
        QemuBackend real = new QemuBackend("qemu-system-x86_64", root.resolve("no-kvm"), ROOT);
        return new VmBackend() {
            @Override public Accelerator accelerator(String configured, Account account) {
                return real.accelerator(configured, account);
            }
            @Override public void kvmFailedAtStart(Account account, String why) { }
            @Override public List<String> command(Launch launch) {
                List<String> qemu = real.command(launch);
                List<String> c = new ArrayList<>(qemu.subList(0, qemu.indexOf("--") + 1));
                c.addAll(List.of("sleep", "120"));
                return c;
            }
        };
    }

    @Test
    void theSocketSwappedForALinkAfterTheCheckIsNeverReached() throws Exception {
        Path socket = run.resolve("network.sock");
        manager = manager(sleeper(), "tcg", () -> {
            try {
                Files.delete(socket);
                Files.createSymbolicLink(socket, otherSocketPath);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        manager.create(CALLER);
        manager.start(CALLER);
        assertNull(otherSocket.accept(), "the root-only socket got no connection");
        SocketChannel accepted = vmSocket.accept();
        assertNotNull(accepted, "the helper connected to the socket it checked, through its descriptor");
        accepted.close();
    }

    @Test
    void aLinkInPlaceOfTheSocketIsRefusedAndNothingIsConnected() throws Exception {
        manager = manager(sleeper(), "tcg", () -> { });
        manager.create(CALLER);
        Path socket = run.resolve("network.sock");
        Files.delete(socket);
        Files.createSymbolicLink(socket, otherSocketPath);
        HelperException e = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertEquals(HelperErrors.REFUSED, e.code(), e.getMessage());
        assertNull(otherSocket.accept(), "the root-only socket got no connection");
        assertEquals("stopped", manager.status().get("state"));
    }

    @Test
    void aSocketServedByAnotherUidIsRefused() throws Exception {
        // this process serves the socket; the caller claims to be nobody
        int nobody = Accounts.lookup("nobody").orElseThrow().uid();
        RuntimeSocket connector = new RuntimeSocket(() -> { });
        Path socket = run.resolve("network.sock");
        HelperException e = assertThrows(HelperException.class, () -> connector.connect(socket, new java.util.HashSet<>(List.of("root", ME)), nobody));
        assertEquals(HelperErrors.REFUSED, e.code());
        assertTrue(e.getMessage().contains("is served by uid"), e.getMessage());
    }

    @Test
    void theEmulatorHoldsOnlyItsDescriptorsAndRunsUnprivileged() throws Exception {
        manager = manager(sleeper(), "tcg", () -> { });
        manager.create(CALLER);
        Map<String, Object> started = manager.start(CALLER);
        long pid = ((Number) started.get("pid")).longValue();
        Map<Integer, String> fds = descriptors(pid);
        assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6), fds.keySet(), "exactly stdin/out/err, network, disk twice, console: " + fds);
        assertEquals("/dev/null", fds.get(0));
        assertEquals(vmDir.resolve(VmManager.EMULATOR_LOG).toString(), fds.get(1));
        assertEquals(fds.get(1), fds.get(2));
        assertTrue(fds.get(VmBackend.NET_FD).startsWith("socket:["), fds.toString());
        assertEquals(vmDir.resolve(VmManager.DISK).toString(), fds.get(VmBackend.DISK_FD));
        assertEquals(vmDir.resolve(VmManager.DISK).toString(), fds.get(VmBackend.DISK_READ_FD));
        assertEquals(vmDir.resolve(VmManager.CONSOLE_LOG).toString(), fds.get(VmBackend.CONSOLE_FD));
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        assertTrue(status.contains("NoNewPrivs:\t1"), status);
        if (ROOT) {
            assertTrue(status.contains("Uid:\t65534\t65534\t65534\t65534"), status);
            assertTrue(status.contains("Gid:\t65534\t65534\t65534\t65534"), status);
            assertTrue(status.lines().anyMatch(l -> l.matches("Groups:\\s*")), "no supplementary groups: " + status);
            assertTrue(status.contains("CapEff:\t0000000000000000"), status);
            assertTrue(status.contains("CapBnd:\t0000000000000000"), status);
        }
        String environment = Files.readString(Path.of("/proc", Long.toString(pid), "environ")).replace('\0', '\n');
        assertEquals(Set.of("PATH", "LC_ALL"), environment.lines().map(l -> l.substring(0, l.indexOf('='))).collect(
                java.util.stream.Collectors.toSet()), "nothing of the helper's environment: " + environment);
    }

    @Test
    void autoFallsBackToTcgWhenKvmPassesTheProbeButDiesAtStart() throws Exception {
        Path device = Files.writeString(root.resolve("kvm"), "");
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw-rw-"));
        // the probe (QMP on stdio) sees a running vCPU; the VM's own start with KVM aborts; TCG runs
        Path emulator = Files.writeString(root.resolve("qemu"), """
                #!/bin/sh
                case "$*" in
                  *-qmp*)
                    echo '{"QMP": {}}'
                    while read -r line; do
                      case "$line" in
                        *query-status*) echo '{"return": {"status": "running", "running": true}}' ;;
                        *quit*) exit 0 ;;
                        *) echo '{"return": {}}' ;;
                      esac
                    done ;;
                  *"-accel kvm"*)
                    echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000000e" >&2
                    kill -ABRT $$ ;;
                  *) exec sleep 120 ;;
                esac
                """);
        Files.setPosixFilePermissions(emulator, PosixFilePermissions.fromString("rwxr-xr-x"));
        manager = manager(new QemuBackend(emulator.toString(), device, ROOT), "auto", () -> { });
        manager.create(CALLER);
        Map<String, Object> started = manager.start(CALLER);
        assertEquals("running", started.get("state"), started.toString());
        assertEquals("tcg", started.get("accelerator"));
        assertEquals("kvm failed at start: exit 134: failed to set MSR 0x10a to 0x20000000e", started.get("acceleratorReason"));
        manager.stop();
        assertEquals("tcg", manager.start(CALLER).get("accelerator"), "the verdict is kept");
    }

    @Test
    void aForcedKvmThatDiesAtStartIsAnError() throws Exception {
        Path device = Files.writeString(root.resolve("kvm"), "");
        Path emulator = Files.writeString(root.resolve("qemu"), """
                #!/bin/sh
                echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000000e" >&2
                kill -ABRT $$
                """);
        Files.setPosixFilePermissions(emulator, PosixFilePermissions.fromString("rwxr-xr-x"));
        manager = manager(new QemuBackend(emulator.toString(), device, ROOT), "kvm", () -> { });
        manager.create(CALLER);
        HelperException e = assertThrows(HelperException.class, () -> manager.start(CALLER));
        assertTrue(e.getMessage().contains("exit 134") && e.getMessage().contains("MSR 0x10a"), e.getMessage());
    }

    /** Descriptor number to what it opens, from /proc (as root, or as the same user). */
    static Map<Integer, String> descriptors(long pid) throws IOException {
        Map<Integer, String> fds = new TreeMap<>();
        try (var entries = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : entries.toList()) {
                fds.put(Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
            }
        }
        return fds;
    }
}
