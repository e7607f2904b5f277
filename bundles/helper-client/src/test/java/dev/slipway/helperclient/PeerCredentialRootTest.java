package dev.slipway.helperclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.platform.linux.LinuxAccountDirectory;
import dev.slipway.process.ProcessCommandRunner;
import dev.slipway.testing.Commands;
import dev.slipway.testing.TestUsers;

/**
 * Real users against a real helper socket: creates a group and three users with groupadd/useradd
 * (removed afterwards) and runs a tiny client as each of them. Needs root.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PeerCredentialRootTest {

    private static final String PROBE = """
            import java.net.*; import java.nio.*; import java.nio.channels.*; import java.nio.charset.*;
            public class Probe {
                public static void main(String[] a) throws Exception {
                    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(a[0]))) {
                        byte[] b = a[1].getBytes(StandardCharsets.UTF_8);
                        try { c.write(ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).flip()); }
                        catch (java.io.IOException refusedEarly) { /* the refusal may already wait to be read */ }
                        ByteBuffer h = ByteBuffer.allocate(4);
                        while (h.hasRemaining()) { if (c.read(h) < 0) { System.out.println("CLOSED"); return; } }
                        ByteBuffer body = ByteBuffer.allocate(h.getInt(0));
                        while (body.hasRemaining()) { if (c.read(body) < 0) { System.out.println("CLOSED"); return; } }
                        System.out.println("REPLY " + new String(body.array(), StandardCharsets.UTF_8));
                    } catch (java.io.IOException e) {
                        System.out.println("DENIED " + e.getMessage());
                    }
                }
            }
            """;

    /** Another member's connection, bound to the abstract name the earlier ports.bind reply token named. */
    private static final String VICTIM = """
            import com.sun.jna.*; import java.nio.charset.*;
            public class Victim {
                public interface C extends Library {
                    int socket(int domain, int type, int protocol) throws LastErrorException;
                    int bind(int fd, byte[] address, int length) throws LastErrorException;
                    int connect(int fd, byte[] address, int length) throws LastErrorException;
                    long recv(int fd, byte[] buffer, long length, int flags) throws LastErrorException;
                }
                static byte[] address(byte[] name, int offset) {
                    byte[] a = new byte[offset + name.length + 1]; a[0] = 1; System.arraycopy(name, 0, a, offset, name.length); return a;
                }
                public static void main(String[] a) throws Exception {
                    C c = Native.load("c", C.class);
                    int fd = c.socket(1, 1, 0);
                    byte[] local = address(("slipway-ports-" + a[1]).getBytes(StandardCharsets.US_ASCII), 3);
                    c.bind(fd, local, local.length - 1);
                    byte[] remote = address(a[0].getBytes(StandardCharsets.UTF_8), 2);
                    c.connect(fd, remote, remote.length);
                    System.out.println("CONNECTED");
                    System.out.flush();
                    new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
                    try {
                        System.out.println("RECEIVED " + c.recv(fd, new byte[16], 16, 0x2 | 0x40)); // MSG_PEEK | MSG_DONTWAIT
                    } catch (LastErrorException e) {
                        System.out.println(e.getErrorCode() == 11 ? "NOTHING" : "ERRNO " + e.getErrorCode());
                    }
                }
            }
            """;

    private static TestUsers users;
    private static String group;
    private static String memberName;
    private static String otherMemberName;
    private static String outsiderName;
    private static Path root;

    @BeforeAll
    static void createUsers() throws Exception {
        users = TestUsers.create("slwt", "creates users with useradd");
        group = users.group();
        memberName = users.member("m");
        otherMemberName = users.member("n");
        outsiderName = users.outsider("o");
        root = Files.createTempDirectory("slipway-peer-test");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(root.resolve("Probe.java"), PROBE);
        Files.setPosixFilePermissions(root.resolve("Probe.java"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(root.resolve("Victim.java"), VICTIM);
        Files.setPosixFilePermissions(root.resolve("Victim.java"), PosixFilePermissions.fromString("rw-r--r--"));
        // the test users cannot read root's ~/.m2: they get a copy of JNA
        Files.copy(Path.of(com.sun.jna.Native.class.getProtectionDomain().getCodeSource().getLocation().toURI()), root.resolve("jna.jar"));
        Files.setPosixFilePermissions(root.resolve("jna.jar"), PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterAll
    static void removeUsers() throws Exception {
        if (users != null) {
            users.close();
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs the probe as {@code user} (its own primary group plus its supplementary groups). */
    private static String as(String user, Path socket, String request) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Commands.Out run = Commands.run(Duration.ofSeconds(60), TestUsers.as(user, root,
                java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", root.resolve("Probe.java").toString(), socket.toString(), request));
        assertTrue(run.exit() >= 0, "the probe did not finish: " + run);
        String out = run.stdout() + run.stderr();
        return out.lines().filter(l -> l.startsWith("REPLY") || l.startsWith("DENIED") || l.startsWith("CLOSED"))
                .findFirst().orElse("NO OUTPUT: " + out);
    }

    private static InJvmHelper helper(String dir, Optional<String> onlyUser) throws IOException {
        Path home = Files.createDirectories(root.resolve(dir));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new InJvmHelper(home, group, onlyUser, new LinuxAccountDirectory(new ProcessCommandRunner()),
                new dev.slipway.helper.server.Helper.Limits(64, 4, Duration.ofSeconds(5)));
    }

    private static final String VERSION = "{\"v\":1,\"id\":7,\"op\":\"version\"}";

    @Test
    void aGroupMemberIsServedAndAUserOutsideTheGroupCannotOpenTheSocket() throws Exception {
        try (InJvmHelper helper = helper("group-mode", Optional.empty())) {
            String member = as(memberName, helper.socket, VERSION);
            assertTrue(member.startsWith("REPLY") && member.contains("\"ok\":true"), member);
            String outsider = as(outsiderName, helper.socket, VERSION);
            assertTrue(outsider.startsWith("DENIED") && outsider.contains("Permission denied"), outsider);
        }
    }

    @Test
    void aUserOutsideTheGroupIsRefusedByPeerCredentialsEvenWhenTheSocketModeIsTooOpen() throws Exception {
        try (InJvmHelper helper = helper("open-mode", Optional.empty())) {
            Files.setPosixFilePermissions(helper.socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            String outsider = as(outsiderName, helper.socket, VERSION);
            assertTrue(outsider.contains("\"code\":\"refused\"") && outsider.contains("is not in group " + group), outsider);
            String audit = Files.readString(helper.auditLog);
            assertTrue(audit.contains("\"event\":\"refused\"") && audit.contains("\"user\":\"" + outsiderName + "\""), audit);
            assertTrue(as(memberName, helper.socket, VERSION).contains("\"ok\":true"));
        }
    }

    @Test
    void inUserModeOnlyThatUserIsServedEvenAmongGroupMembers() throws Exception {
        try (InJvmHelper helper = helper("user-mode", Optional.of(memberName))) {
            assertTrue(as(memberName, helper.socket, VERSION).contains("\"ok\":true"));
            String other = as(otherMemberName, helper.socket, VERSION);
            assertTrue(other.contains("\"code\":\"refused\"") && other.contains("installed for user " + memberName), other);
        }
    }

    @Test
    void aMemberSendingAPathOrAnExtraFieldGetsAnErrorAndNothingChanges() throws Exception {
        try (InJvmHelper helper = helper("attack-mode", Optional.empty())) {
            String before = Files.readString(helper.hosts);
            String path = as(memberName, helper.socket, "{\"v\":1,\"id\":1,\"op\":\"hosts.ensure\",\"params\":{\"file\":\"/etc/shadow\"}}");
            assertTrue(path.contains("\"code\":\"path-not-allowed\""), path);
            String extra = as(memberName, helper.socket, "{\"v\":1,\"id\":1,\"op\":\"hosts.ensure\",\"user\":\"root\"}");
            assertTrue(extra.contains("\"code\":\"unknown-field\""), extra);
            assertEquals(before, Files.readString(helper.hosts));
            String served = as(memberName, helper.socket, "{\"v\":1,\"id\":2,\"op\":\"hosts.ensure\"}");
            assertTrue(served.contains("\"ok\":true"), served);
            assertTrue(Files.readString(helper.auditLog).contains("\"user\":\"" + memberName + "\""));
        }
    }

    @Test
    void aMemberCannotLandASocketOnAnotherMembersConnection() throws Exception {
        try (InJvmHelper helper = helper("ports-mode", Optional.empty())) {
            helper.helper.register(dev.slipway.api.helper.HelperSchema.PORTS_BIND,
                    new dev.slipway.helper.portsbind.PortsBindOperation(key -> Optional.empty()));
            String token = "0123456789abcdef0123456789abcdef";
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process victim = TestUsers.as(otherMemberName, root, java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", root.resolve("jna.jar").toString(),
                    root.resolve("Victim.java").toString(), helper.socket.toString(), token).redirectErrorStream(true).start();
            try {
                java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
                String line = out.readLine();
                assertEquals("CONNECTED", line, "the other member's connection is open");
                int port = PortsBindConnectionRootTest.freePrivilegedPort();
                String attack = as(memberName, helper.socket, "{\"v\":1,\"id\":1,\"op\":\"ports.bind\",\"params\":{\"protocol\":\"udp\","
                        + "\"address\":\"127.0.0.1\",\"port\":\"" + port + "\",\"reply\":\"" + token + "\"}}");
                victim.getOutputStream().write('\n');
                victim.getOutputStream().flush();
                String landed = out.readLine();
                assertEquals("NOTHING", landed, "nothing reached " + otherMemberName + "'s connection; " + memberName + " was answered " + attack);
                assertTrue(attack.contains("\"code\":\"unknown-field\""), attack);
            } finally {
                victim.destroy();
                victim.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
