package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.Platform;
import dev.slipway.helper.server.Helper;
import dev.slipway.helper.server.LinkOperations;
import dev.slipway.helper.server.UninstallOperation;
import dev.slipway.testing.Commands;
import dev.slipway.testing.TestUsers;

/**
 * Two real members of the helper's group, each a real process (setpriv) on the helper's socket:
 * the second may read the first's VM but neither stop, destroy nor move it, nor repoint or remove
 * the first's docker.sock link, nor uninstall the helper. Needs root.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MemberAgainstMemberRootTest {

    private static final String PROBE = """
            import java.net.*; import java.nio.*; import java.nio.channels.*; import java.nio.charset.*;
            public class Probe {
                public static void main(String[] a) throws Exception {
                    for (int i = 1; i < a.length; i++) {
                        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(a[0]))) {
                            byte[] b = a[i].getBytes(StandardCharsets.UTF_8);
                            c.write(ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).flip());
                            ByteBuffer h = ByteBuffer.allocate(4);
                            while (h.hasRemaining()) { if (c.read(h) < 0) { System.out.println("CLOSED"); break; } }
                            if (h.hasRemaining()) { continue; }
                            ByteBuffer body = ByteBuffer.allocate(h.getInt(0));
                            while (body.hasRemaining()) { if (c.read(body) < 0) { break; } }
                            System.out.println("REPLY " + new String(body.array(), 0, body.position(), StandardCharsets.UTF_8));
                        } catch (java.io.IOException e) {
                            System.out.println("DENIED " + e.getMessage());
                        }
                    }
                }
            }
            """;

    static Members users;

    Path root;
    Path socket;
    Path dockerSock;
    Path vmDir;
    Helper helper;

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
    void startHelper() throws Exception {
        root = TestRoot.create("members");
        Path run = TestRoot.dir(root, "run");
        socket = run.resolve("helper.sock");
        dockerSock = run.resolve("docker.sock");
        vmDir = root.resolve("vm");
        for (String user : List.of(users.alice, users.bob)) {
            TestUsers.own(TestRoot.dir(root, "home-" + user), user);
        }
        Files.writeString(root.resolve("Probe.java"), PROBE);
        Files.setPosixFilePermissions(root.resolve("Probe.java"), PosixFilePermissions.fromString("rw-r--r--"));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String g) { return Set.of(users.alice, users.bob); }
            @Override public boolean groupExists(String g) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root.resolve("home-" + user)); }
        };
        helper = new Helper(new Helper.Config(socket, users.group, Optional.empty(), root.resolve("audit.log"), "test",
                new Helper.Limits(16, 2, Duration.ofSeconds(5))), accounts, Clock.systemUTC());
        var settings = new VmManager.Settings(vmDir, Optional.empty(), Optional.empty(), "console=ttyS0", 64, 1, 1L << 20,
                "tcg", ".slipway/run/vm.sock", users.group, Optional.empty(), List.of(), Optional.of("nobody"));
        VmOperations vm = new VmOperations(new VmManager(settings,
                new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent"), true), accounts, p -> { }));
        for (String op : List.of(HelperSchema.VM_CREATE, HelperSchema.VM_START, HelperSchema.VM_STOP,
                HelperSchema.VM_DESTROY, HelperSchema.VM_STATUS, HelperSchema.VM_MOVE_DISK, HelperSchema.VM_ATTACH_ENGINE,
                HelperSchema.VM_ATTACH_NETWORK)) {
            helper.register(op, vm);
        }
        HelperSettings helperSettings = key -> Optional.ofNullable(switch (key) {
            case HelperSettings.DOCKER_SOCK -> dockerSock.toString();
            case HelperSettings.BIN_DIR -> root.resolve("bin").toString();
            case HelperSettings.INSTALL_DIR -> root.resolve("install").toString();
            default -> null;
        });
        LinkOperations links = new LinkOperations(helperSettings, platform(), accounts, definitions(), plan -> { });
        helper.register(HelperSchema.DOCKERSOCK_LINK, links);
        helper.register(HelperSchema.DOCKERSOCK_UNLINK, links);
        helper.register(HelperSchema.UNINSTALL, new UninstallOperation(helperSettings, platform(), definitions(), plan -> {
            throw new AssertionError("a member's uninstall must not reach the service removal");
        }));
        helper.start();
    }

    @AfterEach
    void stopHelper() throws IOException {
        if (helper != null) {
            helper.close();
        }
        TestRoot.delete(root);
    }

    @Test
    void theSecondMemberReadsButCannotChangeWhatTheFirstMade() throws Exception {
        List<String> first = as(users.alice, request("vm.create", "\"name\":\"slipway-vm\""), request("dockersock.link", ""));
        assertTrue(first.get(0).contains("\"ok\":true"), first.get(0));
        assertTrue(first.get(1).contains("\"ok\":true"), first.get(1));

        String belongs = "the VM belongs to " + users.alice + "; only " + users.alice + ", root or the installed user may ";
        String linkBelongs = "the docker.sock link belongs to " + users.alice;
        List<String> second = as(users.bob,
                request("vm.status", "\"name\":\"slipway-vm\""),
                request("vm.stop", "\"name\":\"slipway-vm\""),
                request("vm.destroy", "\"name\":\"slipway-vm\""),
                request("vm.move-disk", "\"name\":\"slipway-vm\",\"destination\":\"" + root.resolve("home-" + users.bob) + "\""),
                request("dockersock.link", ""),
                request("dockersock.unlink", ""),
                request("uninstall", ""),
                request("vm.attach-engine", "\"name\":\"slipway-vm\""),
                request("vm.attach-network", "\"name\":\"slipway-vm\""));
        assertTrue(second.get(0).contains("\"ok\":true") && second.get(0).contains("\"owner\":\"" + users.alice + "\""), second.get(0));
        assertTrue(second.get(1).contains(belongs + "stop it"), second.get(1));
        assertTrue(second.get(2).contains(belongs + "destroy it"), second.get(2));
        assertTrue(second.get(3).contains(belongs + "move its disk"), second.get(3));
        assertTrue(second.get(4).contains(linkBelongs), second.get(4));
        assertTrue(second.get(5).contains(linkBelongs), second.get(5));
        assertTrue(second.get(6).contains("\"code\":\"refused\"") && second.get(6).contains("only root may uninstall"), second.get(6));
        // the engine's channel is as good as root in the VM: only who may change the VM gets it
        assertTrue(second.get(7).contains("\"code\":\"refused\"") && second.get(7).contains(belongs + "attach to its engine"),
                second.get(7));
        // so is the network card: every frame of the guest, and a way to answer as its gateway
        assertTrue(second.get(8).contains("\"code\":\"refused\"") && second.get(8).contains(belongs + "attach to its network card"),
                second.get(8));
        assertTrue(Files.readAllLines(root.resolve("audit.log")).stream().anyMatch(l -> l.contains("vm.attach-network")
                && l.contains("\"user\":\"" + users.bob + "\"") && l.contains("refused")), "the refusal is audited");
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)), "the first member's disk is still there");
        assertEquals(root.resolve("home-" + users.alice).resolve(".slipway/run/docker.sock"), Files.readSymbolicLink(dockerSock));

        List<String> again = as(users.alice, request("vm.destroy", "\"name\":\"slipway-vm\""), request("dockersock.unlink", ""));
        assertTrue(again.get(0).contains("\"destroyed\":true"), again.get(0));
        assertTrue(again.get(1).contains("\"removed\""), again.get(1));
        assertTrue(!Files.exists(dockerSock, LinkOption.NOFOLLOW_LINKS));
    }

    private static String request(String op, String params) {
        return "{\"v\":1,\"id\":1,\"op\":\"" + op + "\",\"params\":{" + params + "}}";
    }

    /** Runs the probe as {@code user}, with its groups: one reply line per request. */
    private List<String> as(String user, String... requests) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", root.resolve("Probe.java").toString(),
                socket.toString()));
        command.addAll(List.of(requests));
        Commands.Out run = Commands.run(Duration.ofSeconds(90), TestUsers.as(user, root, command.toArray(String[]::new)));
        assertTrue(run.exit() >= 0, "the probe did not finish");
        String out = run.stdout() + run.stderr();
        List<String> replies = out.lines().filter(l -> l.startsWith("REPLY") || l.startsWith("DENIED") || l.startsWith("CLOSED")).toList();
        assertEquals(requests.length, replies.size(), out);
        return replies;
    }

    private Platform platform() {
        return new Platform() {
            @Override public String osName() { return "linux"; }
            @Override public Path hostsFile() { return root.resolve("hosts"); }
            @Override public Path helperSocket() { return socket; }
            @Override public Path userBinDir() { return root.resolve("user-bin"); }
            @Override public Path systemBinDir() { return root.resolve("bin"); }
            @Override public Path systemInstallDir() { return root.resolve("install"); }
            @Override public Path userInstallDir() { return root.resolve("user-install"); }
            @Override public Path runtimeDir() { return root.resolve("runtime"); }
        };
    }

    private static HelperServiceDefinitions definitions() {
        return new HelperServiceDefinitions() {
            @Override public Path configFile() { return Path.of("/nonexistent/helper.properties"); }
            @Override public Path auditLog() { return Path.of("/nonexistent/audit.log"); }
            @Override public SystemPlan install(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan reconfigure(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan uninstall(InstallOptions options) { return SystemPlan.of(List.of()); }
            @Override public List<String> statusCommand() { return List.of(); }
            @Override public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) { return Optional.empty(); }
            @Override public SystemPlan removeDockerSockBootLink() { return SystemPlan.of(List.of()); }
            @Override public dev.slipway.api.helper.HelperServiceStatus serviceStatus() { throw new AssertionError(); }
            @Override public void requireTrusted(Path path) { }
            @Override public void requireTrustedChain(Path directory) { }
            @Override public boolean elevated() { return true; }
        };
    }
}
