package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.testing.ClassPaths;
import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;
import dev.slipway.testing.TestUsers;

/**
 * ICMP echo to any destination against the real kernel. Three test-made namespaces: "host", where
 * a child JVM runs the stack (so that its net.ipv4.ping_group_range, a per-namespace setting, is
 * the test's to choose without touching the machine's), "router" and "far", the echo's target
 * behind the router. The guest namespace hangs off the stack by a tap device as in production.
 *
 * <pre>
 * guest ──tap── [stack in "host" 10.91.1.1] ──veth── [router 10.91.1.2 | 10.91.2.1] ──veth── [far 10.91.2.2]
 *                        fd91:1::1                      fd91:1::2 | fd91:2::1               fd91:2::2
 * </pre>
 *
 * <p>The guest's IPv6 address comes from the stack's router advertisement (SLAAC) as in production.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IcmpEchoNamespaceTest {
    static final String HOST = NetNs.unique("slw-icmp-h");
    static final String ROUTER = NetNs.unique("slw-icmp-r");
    static final String FAR = NetNs.unique("slw-icmp-f");
    static final String FAR_ADDRESS = "10.91.2.2";
    static final String ROUTER_ADDRESS = "10.91.1.2";
    static final String FAR_ADDRESS6 = "fd91:2::2";
    static final String ROUTER_ADDRESS6 = "fd91:1::2";
    static final String GATEWAY6 = "fd00:5e7a:1e55::1";
    static final Duration T = Duration.ofSeconds(20);
    final List<String> guests = new ArrayList<>();
    Lab lab;
    @TempDir
    Path dir;

    @BeforeAll
    void network() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "sysctl", "nsenter");
        for (String ns : List.of(HOST, ROUTER, FAR)) {
            NetNs.delete(ns);
            NetNs.add(ns);
            Commands.check(T, "ip", "-n", ns, "link", "set", "lo", "up");
        }
        Commands.check(T, "ip", "-n", HOST, "link", "add", "hr0", "type", "veth", "peer", "name", "rh0", "netns", ROUTER);
        Commands.check(T, "ip", "-n", ROUTER, "link", "add", "rf0", "type", "veth", "peer", "name", "fr0", "netns", FAR);
        address(HOST, "hr0", "10.91.1.1/24");
        address(ROUTER, "rh0", ROUTER_ADDRESS + "/24");
        address(ROUTER, "rf0", "10.91.2.1/24");
        address(FAR, "fr0", FAR_ADDRESS + "/24");
        Commands.check(T, "ip", "-n", HOST, "route", "add", "10.91.0.0/16", "via", ROUTER_ADDRESS);
        Commands.check(T, "ip", "-n", FAR, "route", "add", "default", "via", "10.91.2.1");
        Commands.check(T, Commands.inNs(ROUTER, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1").toArray(String[]::new));
        address6(HOST, "hr0", "fd91:1::1/64");
        address6(ROUTER, "rh0", ROUTER_ADDRESS6 + "/64");
        address6(ROUTER, "rf0", "fd91:2::1/64");
        address6(FAR, "fr0", FAR_ADDRESS6 + "/64");
        Commands.check(T, "ip", "-n", HOST, "-6", "route", "add", "fd91::/16", "via", ROUTER_ADDRESS6);
        Commands.check(T, "ip", "-n", FAR, "-6", "route", "add", "default", "via", "fd91:2::1");
        Commands.check(T, Commands.inNs(ROUTER, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1").toArray(String[]::new));
    }

    /** A ULA address without duplicate address detection, usable at once. */
    private static void address6(String ns, String device, String cidr) throws Exception {
        Commands.check(T, "ip", "-n", ns, "-6", "addr", "add", cidr, "dev", device, "nodad");
    }

    private static void address(String ns, String device, String cidr) throws Exception {
        Commands.check(T, "ip", "-n", ns, "addr", "add", cidr, "dev", device);
        Commands.check(T, "ip", "-n", ns, "link", "set", device, "up");
    }

    private static void pingGroupRange(String range) throws Exception {
        Commands.check(T, Commands.inNs(HOST, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=" + range).toArray(String[]::new));
    }

    @AfterEach
    void stopLab() {
        if (lab != null) {
            lab.close();
            lab = null;
        }
    }

    @AfterAll
    void cleanUp() {
        for (String ns : guests) {
            NetNs.killAll(ns);
            NetNs.delete(ns);
        }
        for (String ns : List.of(HOST, ROUTER, FAR)) {
            NetNs.killAll(ns);
            NetNs.delete(ns);
        }
    }

    /** The stack in the "host" namespace, in a child JVM; its log in {@code log}. */
    final class Lab implements AutoCloseable {
        final Process process;
        final Writer commands;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Path log;
        final String guest;

        Lab(String name) throws Exception {
            guest = NetNs.unique(name);
            guests.add(guest);
            log = dir.resolve(name + ".log");
            process = new ProcessBuilder(Commands.inNs(HOST, ClassPaths.java(), "-Djna.tmpdir=/tmp", "-XX:TieredStopAtLevel=1",
                    "-cp", ClassPaths.current(), EchoLabMain.class.getName(), guest, NetNs.device("slwi")))
                    .redirectError(log.toFile()).start();
            commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("read failed: " + e);
                }
            }, "echo-lab-output");
            reader.setDaemon(true);
            reader.start();
            String ready = lines.poll(60, TimeUnit.SECONDS);
            assertNotNull(ready, () -> "the lab did not start: " + logText());
            assertTrue(ready.startsWith("ready "), () -> ready + "\n" + logText());
        }

        String status() throws Exception {
            return command("status");
        }

        /** Replaces the stack by a new one that takes its state, {@code millis} after the old one stopped. */
        String update(long millis) throws Exception {
            return command("update " + millis);
        }

        private String command(String command) throws Exception {
            commands.write(command + "\n");
            commands.flush();
            String s = lines.poll(20, TimeUnit.SECONDS);
            assertNotNull(s, this::logText);
            return s;
        }

        String logText() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        /**
         * Runs {@code command} in the guest namespace. The lab's {@code ip netns add} mounted the
         * namespace's name in the mount namespace {@code ip netns exec} gave the lab, so the name is
         * looked up there.
         */
        Commands.Out inGuest(String... command) throws Exception {
            List<String> line = new ArrayList<>(List.of("nsenter", "-t", Long.toString(process.pid()), "-m", "ip", "netns", "exec", guest));
            line.addAll(List.of(command));
            return Commands.run(Duration.ofSeconds(30), line.toArray(String[]::new));
        }

        /** Waits (bounded) until the guest's kernel configured a global address from the stack's advertisement. */
        void awaitSlaac() throws Exception {
            long deadline = System.nanoTime() + 30_000_000_000L;
            String out = "";
            while (System.nanoTime() < deadline) {
                out = inGuest("ip", "-6", "-o", "addr", "show", "scope", "global").stdout();
                if (out.contains("inet6 fd00:5e7a:1e55:") && !out.contains("tentative")) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new AssertionError("no SLAAC address in the guest within 30 s: " + out + logText());
        }

        @Override
        public void close() {
            try {
                commands.write("quit\n");
                commands.flush();
                process.waitFor(15, TimeUnit.SECONDS);
            } catch (IOException e) {
                // the lab is gone already
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Commands.stop(process);
            NetNs.killAll(guest);
            NetNs.delete(guest);
        }
    }

    @Test
    void theGuestPingsAFarNamespaceAndGetsItsRepliesWithItsIdentifierAndSequence() throws Exception {
        pingGroupRange("0 2147483647");
        lab = new Lab("slw-icmp-g1");
        Commands.Out busybox = lab.inGuest("busybox", "ping", "-c", "3", "-W", "3", FAR_ADDRESS);
        assertEquals(0, busybox.exit(), busybox.stdout() + busybox.stderr() + lab.logText());
        assertTrue(busybox.stdout().contains("3 packets received"), busybox.stdout());
        assertTrue(busybox.stdout().contains("seq=2"), busybox.stdout());
        if (Prerequisites.onPath("ping")) {
            // iputils ping, as root, uses a raw socket and takes only replies carrying its identifier
            Commands.Out iputils = lab.inGuest("ping", "-n", "-c", "2", "-W", "3", "-e", "4242", FAR_ADDRESS);
            assertEquals(0, iputils.exit(), iputils.stdout() + iputils.stderr());
            assertTrue(iputils.stdout().contains("icmp_seq=1 ") && iputils.stdout().contains("icmp_seq=2 "), iputils.stdout());
            assertTrue(iputils.stdout().contains("2 received"), iputils.stdout());
        }
        String status = lab.status();
        assertTrue(status.contains("echo=any destination"), status);
        assertTrue(!status.contains("replies=0,"), status);
        Commands.Out gateway = lab.inGuest("busybox", "ping", "-c", "1", "-W", "3", "192.168.65.1");
        assertEquals(0, gateway.exit(), "the gateway still answers itself: " + gateway.stdout());
    }

    /**
     * A ping socket with IP_RECVERR gets the router's time-exceeded and unreachable messages in its
     * error queue (Linux's ping_err), and the guest gets them from the router's address.
     */
    @Test
    void ttlLimitedAndUnroutablePingsGetTheKernelsErrors() throws Exception {
        Prerequisites.assumeCommands("ping");
        pingGroupRange("0 2147483647");
        lab = new Lab("slw-icmp-g2");
        Commands.Out ttl = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", "-t", "2", "-e", "4243", FAR_ADDRESS);
        assertTrue(ttl.stdout().contains("From " + ROUTER_ADDRESS + " icmp_seq=1 Time to live exceeded"), ttl.stdout() + lab.status());
        Commands.Out gatewayTtl = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", "-t", "1", FAR_ADDRESS);
        assertTrue(gatewayTtl.stdout().contains("From 192.168.65.1 icmp_seq=1 Time to live exceeded"), gatewayTtl.stdout());
        Commands.Out noRouteAtTheRouter = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", "10.91.3.5");
        assertTrue(noRouteAtTheRouter.stdout().contains("From " + ROUTER_ADDRESS + " icmp_seq=1 Destination Net Unreachable"),
                noRouteAtTheRouter.stdout() + lab.status());
        Commands.Out noRouteAtTheHost = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", "10.92.0.1");
        assertTrue(noRouteAtTheHost.stdout().contains("From 192.168.65.1 icmp_seq=1 Destination Net Unreachable"),
                noRouteAtTheHost.stdout() + lab.status());
        Commands.Out metadata = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", "169.254.169.254");
        assertTrue(metadata.stdout().contains("From 192.168.65.1 icmp_seq=1 Packet filtered"), metadata.stdout());
    }

    /** ICMPv6 echo through the host's IPv6 ping sockets: replies with the guest's identifier, the router's hop-limit error. */
    @Test
    void theGuestPingsTheFarNamespaceOverIpv6AndGetsRepliesAndTheRoutersHopLimitErrors() throws Exception {
        Prerequisites.assumeCommands("ping");
        pingGroupRange("0 2147483647");
        lab = new Lab("slw-icmp-g6");
        lab.awaitSlaac();
        Commands.Out far = lab.inGuest("ping", "-6", "-n", "-c", "3", "-W", "3", "-e", "4244", FAR_ADDRESS6);
        assertEquals(0, far.exit(), far.stdout() + far.stderr() + lab.status() + lab.logText());
        assertTrue(far.stdout().contains("3 received"), far.stdout());
        assertTrue(far.stdout().contains("from " + FAR_ADDRESS6 + ": icmp_seq=3 "), far.stdout());
        String status = lab.status();
        assertTrue(!status.contains("replies=0,"), status);

        Commands.Out hopLimit = lab.inGuest("ping", "-6", "-n", "-c", "1", "-W", "3", "-t", "2", "-e", "4245", FAR_ADDRESS6);
        assertTrue(hopLimit.stdout().contains("From " + ROUTER_ADDRESS6 + " icmp_seq=1 Time exceeded"), hopLimit.stdout() + lab.status());
        Commands.Out atTheGateway = lab.inGuest("ping", "-6", "-n", "-c", "1", "-W", "3", "-t", "1", FAR_ADDRESS6);
        assertTrue(atTheGateway.stdout().contains("From " + GATEWAY6 + " icmp_seq=1 Time exceeded"), atTheGateway.stdout());
        Commands.Out noRoute = lab.inGuest("ping", "-6", "-n", "-c", "1", "-W", "3", "fd92::1");
        assertTrue(noRoute.stdout().contains("From " + GATEWAY6 + " icmp_seq=1 Destination unreachable: No route"),
                noRoute.stdout() + lab.status());
        Commands.Out gateway = lab.inGuest("ping", "-6", "-n", "-c", "1", "-W", "3", GATEWAY6);
        assertEquals(0, gateway.exit(), "the gateway still answers itself: " + gateway.stdout());
    }

    /** The far namespace answers echo requests itself, each 400 ms late (a raw socket; the kernel's own answers off). */
    private static final String SLOW_RESPONDER = String.join("\n",
            "import socket, threading",
            "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)",
            "def checksum(b):",
            "    if len(b) % 2: b += b'\\0'",
            "    t = sum(int.from_bytes(b[i:i + 2], 'big') for i in range(0, len(b), 2))",
            "    t = (t >> 16) + (t & 0xffff); t += t >> 16",
            "    return (~t) & 0xffff",
            "for _ in range(10000):",
            "    data, peer = s.recvfrom(65535)",
            "    m = bytearray(data[(data[0] & 15) * 4:])",
            "    if m[0] != 8: continue",
            "    m[0] = 0; m[2:4] = b'\\0\\0'; m[2:4] = checksum(bytes(m)).to_bytes(2, 'big')",
            "    threading.Timer(0.4, s.sendto, (bytes(m), (peer[0], 0))).start()");

    /**
     * A live update of the stack while replies are on their way: the ping sockets go to the new
     * version, so the replies that arrive in them during the update reach the guest, none is lost.
     */
    @Test
    void pingsAcrossALiveUpdateOfTheStackLoseNoReply() throws Exception {
        Prerequisites.assumeCommands("ping", "python3");
        pingGroupRange("0 2147483647");
        Commands.check(T, Commands.inNs(FAR, "sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1").toArray(String[]::new));
        Process responder = new ProcessBuilder(Commands.inNs(FAR, "python3", "-c", SLOW_RESPONDER))
                .redirectErrorStream(true).redirectOutput(dir.resolve("responder.log").toFile()).start();
        try {
            lab = new Lab("slw-icmp-g4");
            Commands.Out first = lab.inGuest("ping", "-n", "-c", "1", "-W", "3", FAR_ADDRESS);
            assertTrue(first.stdout().contains("1 received"), "the slow responder answers: " + first.stdout() + Files.readString(dir.resolve("responder.log")));
            java.util.concurrent.CompletableFuture<Commands.Out> pings = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return lab.inGuest("ping", "-n", "-c", "15", "-i", "0.2", "-W", "5", "-e", "4246", FAR_ADDRESS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1300); // two requests are always waiting for their replies
            String updated = lab.update(300);
            assertTrue(updated.startsWith("updated 1 []") || updated.startsWith("updated 2 []"), updated + lab.logText());
            Commands.Out out = pings.get(60, TimeUnit.SECONDS);
            assertTrue(out.stdout().contains("15 received"), "every reply arrived: " + out.stdout() + lab.status());
        } finally {
            Commands.stop(responder);
            Commands.check(T, Commands.inNs(FAR, "sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=0").toArray(String[]::new));
        }
    }

    @Test
    void whereTheHostForbidsPingSocketsOnlyTheGatewayAnswersAndTheLogSaysSoOnce() throws Exception {
        pingGroupRange("1 0");
        lab = new Lab("slw-icmp-g3");
        Commands.Out far = lab.inGuest("busybox", "ping", "-c", "2", "-W", "2", FAR_ADDRESS);
        assertNotEquals(0, far.exit(), far.stdout());
        Commands.Out gateway = lab.inGuest("busybox", "ping", "-c", "1", "-W", "3", "192.168.65.1");
        assertEquals(0, gateway.exit(), gateway.stdout());
        String status = lab.status();
        assertTrue(status.contains("echo=gateway and host alias only: the host forbids unprivileged ping sockets"), status);
        String log = lab.logText();
        assertEquals(1, log.split("ICMP echo reaches only the gateway", -1).length - 1, log);
    }

    /** The relay alone, run as an unprivileged test user: refused while the range leaves the user out, relaying once it takes it in. */
    @Test
    void anUnprivilegedUserRelaysOnlyWhenThePingGroupRangeTakesItsGroupIn() throws Exception {
        try (TestUsers users = TestUsers.create("slwi", "a test user whose group the ping group range takes in or leaves out")) {
            String user = users.outsider("p");
            String gid = Commands.check(T, "id", "-g", user).stdout().strip();
            Path home = Files.createDirectories(dir.resolve("home"));
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            String classPath = ClassPaths.readableCopy(home.resolve("cp"));
            TestUsers.own(home, user);

            pingGroupRange("0 0");
            String refused = probe(user, home, classPath);
            assertTrue(refused.contains("declined gateway and host alias only: the host forbids unprivileged ping sockets"), refused);

            pingGroupRange(gid + " " + gid);
            String relayed = probe(user, home, classPath);
            assertTrue(relayed.contains("to-guest type=0 from=" + FAR_ADDRESS + " to=192.168.65.3 id=2222 seq=5 length=16"), relayed);
        }
    }

    private static String probe(String user, Path home, String classPath) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", HOST));
        command.addAll(TestUsers.as(user, home, ClassPaths.java(), "-Djna.tmpdir=/tmp", "-XX:TieredStopAtLevel=1", "-cp", classPath,
                EchoProbeMain.class.getName(), FAR_ADDRESS).command());
        ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true);
        builder.environment().put("HOME", home.toString());
        Commands.Out out = Commands.run(Duration.ofSeconds(60), builder);
        return out.stdout() + out.stderr() + " (exit " + out.exit() + ")";
    }

}
