package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/** The stack behind a tap device in a real network namespace, driven by the kernel's own tools. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class TapNamespaceTest {
    static final String NS = NetNs.unique("slw-test-tap");
    NetStack stack;
    GuestNamespace ns;
    HttpServer http;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox");
        NetNs.delete(NS);
        stack = new NetStack(NetConfig.defaults());
        stack.dns(TapNamespaceTest::answerHostAlias);
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, NetNs.device("slwt"), NetConfig.defaults());
        ns.start(stack);
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            byte[] body = "hello from the host\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        baselineDescriptors = openDescriptors();
    }

    /** A stand-in DNS service: every A question is answered with the host alias, others with no data. */
    static void answerHostAlias(java.nio.ByteBuffer query, InetSocketAddress client, boolean tcp, dev.slipway.dns.api.DnsService.Reply reply) {
        int n = query.remaining();
        java.nio.ByteBuffer a = java.nio.ByteBuffer.allocate(n + 16);
        a.put(query.duplicate());
        int qtype = a.getShort(n - 4);
        a.putShort(2, (short) 0x8180);
        if (qtype == 1) {
            a.putShort(6, (short) 1);
            a.putShort((short) 0xc00c).putShort((short) 1).putShort((short) 1).putInt(60).putShort((short) 4)
                    .put(new byte[] {(byte) 192, (byte) 168, 65, (byte) 254});
        }
        a.flip();
        reply.send(a);
    }

    @Test
    void guestResolvesHostDockerInternalThroughTheGatewayDns() throws Exception {
        var r = Commands.inNs(NS, Duration.ofSeconds(20), "busybox", "nslookup", "-type=a", "host.docker.internal", "192.168.65.1");
        assertEquals(0, r.exit(), r.stdout() + r.stderr());
        assertTrue(r.stdout().contains("192.168.65.254"), r.stdout());
    }

    static long openDescriptors() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    @Test
    @org.junit.jupiter.api.Order(1000)
    void afterAllTrafficNoConnectionsDescriptorsOrCloseWaitRemain() throws Exception {
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> tcp = (java.util.Map<String, Object>) stack.status().get("tcp");
        for (int i = 0; i < 50 && ((Number) tcp.get("connections")).intValue() > 0; i++) {
            Thread.sleep(100);
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> again = (java.util.Map<String, Object>) stack.status().get("tcp");
            tcp = again;
        }
        assertEquals(0, ((Number) tcp.get("connections")).intValue(), tcp.toString());
        assertEquals(0L, ((Number) tcp.get("buffersInUse")).longValue(), tcp.toString());
        var ss = Commands.run(Duration.ofSeconds(10), "ss", "-tanpH", "state", "close-wait");
        String pid = "pid=" + ProcessHandle.current().pid() + ",";
        assertTrue(!ss.stdout().contains(pid), "CLOSE_WAIT sockets of this process: " + ss.stdout());
        assertTrue(openDescriptors() < baselineDescriptors + 40, "descriptors now " + openDescriptors() + ", at start " + baselineDescriptors);
    }

    long baselineDescriptors;

    @AfterAll
    void stop() {
        if (http != null) {
            http.stop(0);
        }
        if (stack != null) {
            stack.close();
        }
        if (ns != null) {
            ns.close();
        }
        NetNs.delete(NS);
    }

    static Commands.Out guest(Duration timeout, String... args) throws Exception {
        return guestIn(NS, timeout, args);
    }

    /** Runs {@link GuestTool} with {@code args} inside the namespace {@code ns}. */
    static Commands.Out guestIn(String ns, Duration timeout, String... args) throws Exception {
        String cp = java.nio.file.Path.of(GuestTool.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        java.util.List<String> c = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss256k", "-cp", cp, GuestTool.class.getName()));
        c.addAll(java.util.List.of(args));
        return Commands.inNs(ns, timeout, c.toArray(String[]::new));
    }

    @Test
    void hundredMegabytesFromGuestToHostArriveIntact() throws Exception {
        long bytes = 100L << 20;
        try (var sink = HostServers.sink()) {
            var r = guest(Duration.ofSeconds(90), "send", "192.168.65.254", Integer.toString(sink.port()), Long.toString(bytes));
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(GuestTool.digestOf(bytes), r.stdout().strip());
        }
    }

    @Test
    void hundredMegabytesFromHostToGuestArriveIntact() throws Exception {
        long bytes = 100L << 20;
        try (var source = HostServers.source(bytes)) {
            var r = guest(Duration.ofSeconds(90), "recv", "192.168.65.254", Integer.toString(source.port()));
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(bytes + " " + GuestTool.digestOf(bytes), r.stdout().strip());
        }
    }

    @Test
    void halfClosedGuestStillReadsTheReply() throws Exception {
        try (var server = HostServers.halfClose()) {
            var r = guest(Duration.ofSeconds(30), "half-close", "192.168.65.254", Integer.toString(server.port()), "ping");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals("pong:ping", r.stdout().strip());
        }
    }

    @Test
    void udpEchoWorksForSmallAndMaximalDatagrams() throws Exception {
        try (var echo = new HostServers.UdpEcho()) {
            var small = guest(Duration.ofSeconds(30), "udp-echo", "192.168.65.254", Integer.toString(echo.port()), "100", "20");
            assertEquals(0, small.exit(), small.stderr());
            assertTrue(Integer.parseInt(small.stdout().strip()) >= 19, small.stdout());
            var big = guest(Duration.ofSeconds(30), "udp-echo", "192.168.65.254", Integer.toString(echo.port()), "65507", "5");
            assertEquals(0, big.exit(), big.stderr());
            assertTrue(Integer.parseInt(big.stdout().strip()) >= 4, big.stdout());
        }
    }

    @Test
    void thousandConcurrentConnectionsAllWork() throws Exception {
        try (var echo = new HostServers.Echo()) {
            var r = guest(Duration.ofSeconds(90), "concurrent", "192.168.65.254", Integer.toString(echo.port()), "1000");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals("1000", r.stdout().strip());
        }
    }

    @Test
    void connectionToAClosedHostPortIsRefused() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var r = guest(Duration.ofSeconds(30), "connect", "192.168.65.254", Integer.toString(port), "5000");
        assertTrue(r.stdout().contains("ConnectException"), r.stdout() + r.stderr());
    }

    @Test
    void dhcpClientGetsTheFirstGuestAddress() {
        assertEquals("192.168.65.3", ns.address());
    }

    @Test
    void pingReachesTheGatewayAndTheHostAlias() throws Exception {
        var gw = Commands.inNs(NS, Duration.ofSeconds(20), "busybox", "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1");
        assertTrue(gw.ok(), gw.stdout() + gw.stderr());
        var alias = Commands.inNs(NS, Duration.ofSeconds(20), "busybox", "ping", "-c", "2", "-i", "0.2", "-W", "2", "192.168.65.254");
        assertTrue(alias.ok(), alias.stdout() + alias.stderr());
    }

    @Test
    void curlReachesAHostServerOnLoopbackThroughTheHostAlias() throws Exception {
        var r = Commands.inNs(NS, Duration.ofSeconds(30), "curl", "-sS", "--max-time", "10",
                "http://192.168.65.254:" + http.getAddress().getPort() + "/");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals("hello from the host\n", r.stdout());
    }
}
