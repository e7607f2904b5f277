package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.helper.server.Helper;
import dev.slipway.helperclient.SocketHelperClient;

/**
 * The {@code vm.*} operations through the helper's real socket and schema, with requests written
 * by hand the way a hostile client would: another VM's name, paths in any parameter, extra fields.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmProtocolTest {

    Path root;
    Path vmDir;
    Helper helper;
    Path socket;

    @BeforeEach
    void start() throws IOException {
        root = TestRoot.create("protocol");
        vmDir = root.resolve("vm");
        Path run = TestRoot.dir(root, "run");
        socket = run.resolve("helper.sock");
        String group = Files.readAttributes(root, PosixFileAttributes.class).group().getName();
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String g) { return Set.of(); }
            @Override public boolean groupExists(String g) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root.resolve("home")); }
        };
        helper = new Helper(new Helper.Config(socket, group, Optional.empty(), root.resolve("audit.log"), "test",
                new Helper.Limits(16, 2, Duration.ofSeconds(2))), accounts, Clock.systemUTC());
        var settings = new VmManager.Settings(vmDir, Optional.empty(), Optional.empty(), "console=ttyS0", 64, 1, 1L << 20,
                "tcg", ".slipway/run/vm.sock", group, Optional.empty(), List.of(), Optional.of("nobody"));
        VmOperations operations = new VmOperations(new VmManager(settings,
                new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent"), false), accounts, p -> { }));
        for (String op : List.of(HelperSchema.VM_CREATE, HelperSchema.VM_START, HelperSchema.VM_STOP,
                HelperSchema.VM_DESTROY, HelperSchema.VM_STATUS, HelperSchema.VM_MOVE_DISK, HelperSchema.VM_ATTACH_ENGINE,
                HelperSchema.VM_ATTACH_NETWORK)) {
            helper.register(op, operations);
        }
        helper.start();
    }

    @AfterEach
    void stop() throws IOException {
        if (helper != null) {
            helper.close();
        }
        TestRoot.delete(root);
    }

    JsonObject raw(String json) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
            while (out.hasRemaining()) {
                c.write(out);
            }
            ByteBuffer header = ByteBuffer.allocate(4);
            while (header.hasRemaining()) {
                if (c.read(header) < 0) {
                    throw new IOException("closed");
                }
            }
            ByteBuffer reply = ByteBuffer.allocate(header.flip().getInt());
            while (reply.hasRemaining()) {
                if (c.read(reply) < 0) {
                    throw new IOException("closed");
                }
            }
            return JsonParser.parseString(new String(reply.array(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    String errorOf(String op, String params) throws IOException {
        JsonObject reply = raw("{\"v\":1,\"id\":7,\"op\":\"" + op + "\",\"params\":" + params + "}");
        assertFalse(reply.get("ok").getAsBoolean(), reply.toString());
        return reply.getAsJsonObject("error").get("code").getAsString();
    }

    @Test
    void theOneVmIsServedThroughTheSocket() throws Exception {
        SocketHelperClient client = new SocketHelperClient(socket, Duration.ofSeconds(10));
        assertEquals("absent", client.call(HelperSchema.VM_STATUS, Map.of("name", "slipway-vm")).get("state"));
        assertEquals(true, client.call(HelperSchema.VM_CREATE, Map.of("name", "slipway-vm")).get("created"));
        assertEquals("stopped", client.call(HelperSchema.VM_STATUS, Map.of("name", "slipway-vm")).get("state"));
        assertTrue(Files.readString(root.resolve("audit.log")).contains("vm.create"), "audited");
    }

    @Test
    void anotherVmNameIsRefusedForEveryOperation() throws Exception {
        for (String op : List.of("vm.create", "vm.start", "vm.stop", "vm.destroy", "vm.status", "vm.attach-engine", "vm.attach-network")) {
            for (String name : List.of("other-vm", "SLIPWAY-VM", "slipway-vm ", "")) {
                assertEquals(HelperErrors.INVALID, errorOf(op, "{\"name\":\"" + name + "\"}"), op + " " + name);
            }
            assertEquals(HelperErrors.INVALID, errorOf(op, "{}"), op + " without a name");
            assertEquals(HelperErrors.INVALID, errorOf(op, "{\"name\":[\"slipway-vm\"]}"), op + " with a list");
        }
        assertFalse(Files.exists(vmDir), "nothing was created");
    }

    @Test
    void aClientChosenPathIsRefusedEverywhereButTheMoveDestination() throws Exception {
        for (String op : List.of("vm.create", "vm.start", "vm.stop", "vm.destroy", "vm.status", "vm.attach-engine", "vm.attach-network")) {
            assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"slipway-vm\",\"disk\":\"/etc/shadow\"}"), op);
            assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"../slipway-vm\"}"), op);
            assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"C:\\\\vm\"}"), op);
            assertEquals(HelperErrors.UNKNOWN_FIELD, errorOf(op, "{\"name\":\"slipway-vm\",\"config\":\"x\"}"), op);
            assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op,
                    "{\"name\":\"slipway-vm\",\"destination\":\"/var/tmp\"}"), op + " takes no destination");
        }
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf("vm.move-disk",
                "{\"name\":\"slipway-vm\",\"destination\":\"/var/tmp\",\"disk\":\"/etc/shadow\"}"));
        assertFalse(Files.exists(vmDir), "nothing was created");
    }

    @Test
    void aMoveDestinationMustBeAbsoluteAndNormal() throws Exception {
        new SocketHelperClient(socket, Duration.ofSeconds(10)).call(HelperSchema.VM_CREATE, Map.of("name", "slipway-vm"));
        for (String bad : List.of("relative/dir", "./x", "/", "/a/../b", "/a/./b", "/a//b", "/a/b/", "~/disks",
                "\\\\\\\\server\\\\share", "/a\\nb", "C:\\\\Users")) {
            assertEquals(HelperErrors.INVALID, errorOf("vm.move-disk",
                    "{\"name\":\"slipway-vm\",\"destination\":\"" + bad + "\"}"), bad);
        }
        assertEquals(HelperErrors.INVALID, errorOf("vm.move-disk", "{\"name\":\"slipway-vm\",\"destination\":42}"));
        assertEquals(HelperErrors.INVALID, errorOf("vm.move-disk", "{\"name\":\"slipway-vm\"}"));
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)), "the disk stays");
    }

    @Test
    void aMoveThroughTheSocketStillChecksTheDisk() throws Exception {
        SocketHelperClient client = new SocketHelperClient(socket, Duration.ofSeconds(10));
        client.call(HelperSchema.VM_CREATE, Map.of("name", "slipway-vm"));
        Path target = TestRoot.dir(root, "target");
        Files.createSymbolicLink(root.resolve("link"), target);
        assertEquals(HelperErrors.REFUSED, errorOf("vm.move-disk",
                "{\"name\":\"slipway-vm\",\"destination\":\"" + root.resolve("link") + "\"}"));
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)));
        Path good = TestRoot.dir(root, "disks");
        assertEquals(good.resolve(VmManager.DISK).toString(), client.call(HelperSchema.VM_MOVE_DISK,
                Map.of("name", "slipway-vm", "destination", good.toString())).get("disk"));
    }

    /** The reply's error code to a frame whose header claims {@code claimed} bytes and carries {@code body}. */
    String errorOfFrame(int claimed, byte[] body) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.allocate(4 + body.length).putInt(claimed).put(body).flip();
            while (out.hasRemaining()) {
                c.write(out);
            }
            ByteBuffer header = ByteBuffer.allocate(4);
            while (header.hasRemaining()) {
                if (c.read(header) < 0) {
                    throw new IOException("closed without a reply");
                }
            }
            ByteBuffer reply = ByteBuffer.allocate(header.flip().getInt());
            while (reply.hasRemaining()) {
                if (c.read(reply) < 0) {
                    throw new IOException("closed");
                }
            }
            JsonObject r = JsonParser.parseString(new String(reply.array(), StandardCharsets.UTF_8)).getAsJsonObject();
            assertFalse(r.get("ok").getAsBoolean(), r.toString());
            return r.getAsJsonObject("error").get("code").getAsString();
        }
    }

    @Test
    void attachEngineTakesOnlyTheVmsNameAndPassesNothingWithoutARunningVm() throws Exception {
        attachTakesOnlyTheVmsNameAndPassesNothingWithoutARunningVm(HelperSchema.VM_ATTACH_ENGINE, VmManager.ENGINE_DIR);
    }

    @Test
    void attachNetworkTakesOnlyTheVmsNameAndPassesNothingWithoutARunningVm() throws Exception {
        attachTakesOnlyTheVmsNameAndPassesNothingWithoutARunningVm(HelperSchema.VM_ATTACH_NETWORK, VmManager.NETWORK_DIR);
    }

    private void attachTakesOnlyTheVmsNameAndPassesNothingWithoutARunningVm(String op, String listenerDir) throws Exception {
        // the emulator's listeners are the helper's to know: no client names a socket, a file or a descriptor
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"slipway-vm\",\"socket\":\"/tmp/engine.sock\"}"));
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"slipway-vm\",\"listener\":\"../vm/engine/engine.sock\"}"));
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, errorOf(op, "{\"name\":\"slipway-vm\",\"x\":[\"~/engine.sock\"]}"));
        assertEquals(HelperErrors.UNKNOWN_FIELD, errorOf(op, "{\"name\":\"slipway-vm\",\"fd\":7}"));
        assertEquals(HelperErrors.UNKNOWN_FIELD, errorOf(op, "{\"name\":\"slipway-vm\",\"pid\":\"1\"}"));
        assertEquals(HelperErrors.INVALID, errorOf(op, "{\"name\":7}"));
        assertEquals(HelperErrors.INVALID, errorOf(op, "{\"name\":{\"name\":\"slipway-vm\"}}"));
        assertEquals(HelperErrors.INVALID, errorOf(op, "{\"name\":\"" + "s".repeat(60_000) + "\"}"));
        // malformed and oversized frames never reach the operation
        byte[] cut = ("{\"v\":1,\"id\":1,\"op\":\"" + op + "\",\"params\":{\"name\":").getBytes(StandardCharsets.UTF_8);
        assertEquals(HelperErrors.MALFORMED, errorOfFrame(cut.length, cut));
        assertEquals(HelperErrors.MALFORMED, errorOfFrame(4, new byte[] {(byte) 0xff, (byte) 0xfe, '{', '}'}));
        assertEquals(HelperErrors.MALFORMED, errorOf(op, "{\"name\":\"slipway-vm\",\"name\":\"slipway-vm\"}"));
        assertEquals(HelperErrors.OVERSIZED, errorOfFrame(64 * 1024 + 1, new byte[0]));

        // no VM, then a VM that does not run: unavailable, and no descriptor comes with the refusal
        SocketHelperClient client = new SocketHelperClient(socket, Duration.ofSeconds(10));
        for (int round = 0; round < 2; round++) {
            dev.slipway.api.helper.HelperException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.slipway.api.helper.HelperException.class, () -> client.callForDescriptor(op, Map.of("name", "slipway-vm")));
            assertEquals(HelperErrors.UNAVAILABLE, refused.code(), refused.getMessage());
            assertTrue(refused.getMessage().contains("not running"), refused.getMessage());
            client.call(HelperSchema.VM_CREATE, Map.of("name", "slipway-vm"));
        }
        assertFalse(Files.exists(vmDir.resolve(listenerDir)), "no listener without a start");
        assertTrue(Files.readString(root.resolve("audit.log")).contains(op), "audited");
    }
}
