package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.helper.server.Helper;
import dev.slipway.helperclient.SocketHelperClient;
import dev.slipway.helperclient.VmCommand;

/** {@code slipway vm ...} in the runtime, through the helper client, against a helper in this JVM. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmCommandTest {

    Path root;
    Path vmDir;
    Helper helper;
    VmManager manager;
    ServerSocketChannel vmSocket;
    VmCommand command;

    @BeforeEach
    void start() throws IOException {
        root = TestRoot.create("command");
        vmDir = root.resolve("vm");
        Path home = TestRoot.dir(root, "home");
        TestRoot.dir(root, "home/.slipway");
        Path run = TestRoot.dir(root, "home/.slipway/run");
        vmSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        vmSocket.bind(UnixDomainSocketAddress.of(run.resolve("network.sock")));
        Path socket = TestRoot.dir(root, "helper").resolve("helper.sock");
        String group = Files.readAttributes(root, PosixFileAttributes.class).group().getName();
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String g) { return Set.of(); }
            @Override public boolean groupExists(String g) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        helper = new Helper(new Helper.Config(socket, group, Optional.empty(), root.resolve("audit.log"), "test",
                new Helper.Limits(16, 2, Duration.ofSeconds(2))), accounts, Clock.systemUTC());
        Path kernel = Files.writeString(root.resolve("vmlinuz"), "k");
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel), Optional.of(kernel), "console=ttyS0", 64, 1,
                1L << 20, "tcg", ".slipway/run/vm.sock", group, Optional.empty(), List.of(), Optional.of("nobody"));
        VmBackend standIn = new VmBackend() {
            @Override public Accelerator accelerator(String configured, Account account) {
                return new Accelerator("tcg", "no /dev/kvm");
            }
            @Override public void kvmFailedAtStart(Account account, String why) { }
            @Override public List<String> command(Launch launch) { return List.of("sleep", "120"); }
        };
        manager = new VmManager(settings, standIn, accounts, p -> { });
        VmOperations operations = new VmOperations(manager);
        for (String op : List.of(HelperSchema.VM_CREATE, HelperSchema.VM_START, HelperSchema.VM_STOP,
                HelperSchema.VM_DESTROY, HelperSchema.VM_STATUS, HelperSchema.VM_MOVE_DISK)) {
            helper.register(op, operations);
        }
        helper.start();
        command = new VmCommand(new SocketHelperClient(socket, Duration.ofSeconds(20)));
    }

    @AfterEach
    void stop() throws Exception {
        if (manager != null) {
            manager.stop();
        }
        if (helper != null) {
            helper.close();
        }
        if (vmSocket != null) {
            vmSocket.close();
        }
        TestRoot.delete(root);
    }

    @Test
    void startStatusLogsStopAndDestroyGoThroughTheHelper() throws Exception {
        assertTrue(command.execute(List.of("status")).out().contains("absent"));
        CommandResult started = command.execute(List.of("start"));
        assertEquals(0, started.exitCode(), started.err());
        assertTrue(started.out().contains("created"), started.out());
        assertTrue(started.out().contains("running"), started.out());
        String running = command.execute(List.of("status")).out();
        assertTrue(running.contains("running"), running);
        assertTrue(running.contains("accelerator:   tcg (no /dev/kvm)"), "the accelerator and why: " + running);
        assertFalse(running.contains("acceleratorReason"), running);

        Files.writeString(vmDir.resolve("console.log"), "line 1\nline 2\nline 3\n");
        assertEquals("line 2\nline 3\n", command.execute(List.of("logs", "2")).out());
        assertEquals("line 1\nline 2\nline 3\n", command.execute(List.of("logs")).out());

        assertTrue(command.execute(List.of("stop")).out().contains("stopped"));
        assertTrue(command.execute(List.of("status")).out().contains("stopped"));
        Path disks = TestRoot.dir(root, "disks");
        CommandResult moved = command.execute(List.of("move-disk", disks.toString()));
        assertEquals(0, moved.exitCode(), moved.err());
        assertTrue(Files.exists(disks.resolve(VmManager.DISK)));
        command.execute(List.of("destroy"));
        assertTrue(command.execute(List.of("status")).out().contains("absent"));
    }

    @Test
    void badUsageAndRefusalsAreClearAndChangeNothing() throws Exception {
        assertEquals(2, command.execute(List.of()).exitCode());
        assertEquals(2, command.execute(List.of("reboot")).exitCode());
        assertEquals(2, command.execute(List.of("logs", "many")).exitCode());
        assertEquals(2, command.execute(List.of("start", "other-vm")).exitCode());
        command.execute(List.of("create"));
        CommandResult relative = command.execute(List.of("move-disk", "disks"));
        assertEquals(1, relative.exitCode());
        assertTrue(relative.err().contains("invalid"), relative.err());
        Files.createSymbolicLink(root.resolve("link"), TestRoot.dir(root, "elsewhere"));
        CommandResult link = command.execute(List.of("move-disk", root.resolve("link").toString()));
        assertTrue(link.err().contains("refused"), link.err());
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)));
    }
}
