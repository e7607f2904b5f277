package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.process.ProcessCommandRunner;
import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/**
 * IPv6 for a guest in a real network namespace behind a tap device, driven by the kernel's own
 * SLAAC, ping, curl and dig: the address and default route from the router advertisement, echo from
 * the gateway and the host alias, TCP and UDP to the host's {@code ::1} through the host alias,
 * DNS over both families, and 100 MB each way checked by SHA-256.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class Ipv6NamespaceTest {
    static final String NS = NetNs.unique("slw-test-v6");
    static final String DEVICE = NetNs.device("slw6");
    static final String GATEWAY = "fd00:5e7a:1e55::1";
    static final String HOST_ALIAS = "fd00:5e7a:1e55::254";
    static final String GATEWAY_LINK_LOCAL = "fe80::5894:efff:fee4:cdd";
    NetStack stack;
    GuestNamespace ns;
    DnsServer dns;
    HttpServer http;
    String address;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "ping", "curl", "dig");
        NetNs.delete(NS);
        stack = new NetStack(NetConfig.defaults());
        dns = new DnsServer(new DnsStats(), dnsConfig());
        stack.dns(dns);
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, DEVICE, NetConfig.defaults());
        ns.start(stack);
        address = slaacAddress();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("::1"), 0), 0);
        http.createContext("/", ex -> {
            InetAddress peer = ex.getRemoteAddress().getAddress();
            byte[] body = ("hello over IPv6 from " + (peer.equals(InetAddress.getByName("::1")) ? "::1" : peer.getHostAddress()) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
    }

    /** The DNS server's defaults with no upstream: built-in names only. */
    static DnsConfig dnsConfig() {
        Map<String, Object> overrides = Map.of("upstreams", new String[] {"127.0.0.1:9"});
        return (DnsConfig) Proxy.newProxyInstance(DnsConfig.class.getClassLoader(), new Class<?>[] {DnsConfig.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("annotationType")) {
                        return DnsConfig.class;
                    }
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                                : method.getName().equals("equals") ? proxy == args[0] : "DnsConfig";
                    }
                    Object v = overrides.get(method.getName());
                    return v != null ? v : method.getDefaultValue();
                });
    }

    /** Waits (bounded) until the kernel's SLAAC configured an address from the advertised prefix and finished DAD. */
    String slaacAddress() throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String out = "";
        while (System.nanoTime() < deadline) {
            out = Commands.inNs(NS, Duration.ofSeconds(10), "ip", "-6", "-o", "addr", "show", "dev", DEVICE, "scope", "global")
                    .stdout();
            for (String line : out.split("\n")) {
                if (line.contains("inet6 fd00:5e7a:1e55:") && !line.contains("tentative")) {
                    return line.substring(line.indexOf("inet6 ") + 6).split("/")[0];
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no SLAAC address within 30 s: " + out + " status " + stack.status().get("ipv6"));
    }

    @AfterAll
    void stop() {
        if (http != null) {
            http.stop(0);
        }
        if (stack != null) {
            stack.close();
        }
        if (dns != null) {
            dns.deactivate();
        }
        if (ns != null) {
            ns.close();
        }
        NetNs.delete(NS);
    }

    @Test
    void theGuestGetsASlaacAddressAndADefaultRouteFromTheAdvertisement() throws Exception {
        assertTrue(address.startsWith("fd00:5e7a:1e55:"), address);
        var route = Commands.inNs(NS, Duration.ofSeconds(10), "ip", "-6", "route", "show", "default");
        assertTrue(route.stdout().contains("via " + GATEWAY_LINK_LOCAL), route.stdout());
        var mtu = Commands.inNs(NS, Duration.ofSeconds(10), "cat", "/proc/sys/net/ipv6/conf/" + DEVICE + "/mtu");
        assertEquals("1500", mtu.stdout().strip());
    }

    /** Without TSO6 the guest would cut every IPv6 TCP segment to the MTU and IPv6 would trail IPv4 from the guest. */
    @Test
    void theGuestsTapOffersIpv6SegmentationAndChecksumOffload() throws Exception {
        Prerequisites.assumeCommands("ethtool");
        String features = Commands.inNs(NS, Duration.ofSeconds(10), "ethtool", "-k", DEVICE).stdout();
        assertTrue(features.contains("tx-tcp6-segmentation: on"), features);
        assertTrue(features.contains("tx-tcp-segmentation: on"), features);
        assertTrue(features.contains("tx-checksum-ip-generic: on"), features);
    }

    @Test
    void pingReachesTheGatewayAndTheHostAlias() throws Exception {
        for (String target : new String[] {GATEWAY, HOST_ALIAS, GATEWAY_LINK_LOCAL + "%" + DEVICE}) {
            var r = Commands.inNs(NS, Duration.ofSeconds(20), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", target);
            assertTrue(r.ok(), target + ": " + r.stdout() + r.stderr());
            assertTrue(r.stdout().contains("3 received"), r.stdout());
        }
    }

    @Test
    void curlReachesAHostServerOnLoopbackThroughTheHostAlias() throws Exception {
        var r = Commands.inNs(NS, Duration.ofSeconds(30), "curl", "-6", "-sS", "--max-time", "10",
                "http://[" + HOST_ALIAS + "]:" + http.getAddress().getPort() + "/");
        assertEquals(0, r.exit(), r.stderr() + stack.status());
        assertEquals("hello over IPv6 from ::1\n", r.stdout(), "re-originated from the host's ::1");
    }

    @Test
    void digGetsTheHostAliasAaaaFromTheGatewayOverBothFamilies() throws Exception {
        for (String server : new String[] {"192.168.65.1", GATEWAY}) {
            for (String transport : new String[] {"+notcp", "+tcp"}) {
                var r = Commands.inNs(NS, Duration.ofSeconds(20), "dig", "+short", "+time=3", "+tries=2", transport,
                        "AAAA", "host.docker.internal", "@" + server);
                assertEquals(HOST_ALIAS, r.stdout().strip(), server + " " + transport + ": " + r.stdout() + r.stderr() + stack.status());
            }
        }
    }

    @Test
    void hundredMegabytesFromGuestToHostArriveIntact() throws Exception {
        long bytes = 100L << 20;
        try (var sink = HostServers.sink(InetAddress.getByName("::1"))) {
            var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(90), "send", HOST_ALIAS, Integer.toString(sink.port()),
                    Long.toString(bytes));
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(GuestTool.digestOf(bytes), r.stdout().strip());
        }
    }

    @Test
    void hundredMegabytesFromHostToGuestArriveIntact() throws Exception {
        long bytes = 100L << 20;
        try (var source = HostServers.source(bytes, InetAddress.getByName("::1"))) {
            var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(90), "recv", HOST_ALIAS, Integer.toString(source.port()));
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(bytes + " " + GuestTool.digestOf(bytes), r.stdout().strip());
        }
    }

    @Test
    void udpEchoWorksForSmallAndFragmentedDatagrams() throws Exception {
        try (var echo = new HostServers.UdpEcho(InetAddress.getByName("::1"))) {
            var small = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(30), "udp-echo", HOST_ALIAS, Integer.toString(echo.port()), "100", "20");
            assertEquals(0, small.exit(), small.stderr());
            assertTrue(Integer.parseInt(small.stdout().strip()) >= 19, small.stdout());
            var big = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(30), "udp-echo", HOST_ALIAS, Integer.toString(echo.port()), "8000", "5");
            assertEquals(0, big.exit(), big.stderr());
            assertTrue(Integer.parseInt(big.stdout().strip()) >= 4, "fragmented both ways: " + big.stdout());
        }
    }

    @Test
    void aClosedHostPortIsRefusedAtOnceNeverAHang() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            port = s.getLocalPort();
        }
        long start = System.nanoTime();
        var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(30), "connect", HOST_ALIAS, Integer.toString(port), "5000");
        assertTrue(r.stdout().contains("ConnectException"), r.stdout() + r.stderr());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "answered before the guest's own timeout");
    }

    @Test
    void statusShowsBothFamiliesAndNoHostileDropsFromAnOrdinaryGuest() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> v6 = (Map<String, Object>) stack.status().get("ipv6");
        assertEquals("fd00:5e7a:1e55::/64", v6.get("prefix"));
        assertTrue(((Number) v6.get("routerAdvertisements")).longValue() >= 1, v6.toString());
        @SuppressWarnings("unchecked")
        Map<String, String> neighbors = (Map<String, String>) v6.get("neighbors");
        assertTrue(neighbors.containsKey(address), neighbors.toString());
        for (Drop d : new Drop[] {Drop.IPV6_EXTENSION_HEADERS, Drop.ND_INVALID, Drop.ND_SPOOFED, Drop.ROUTER_ADVERTISEMENT_FROM_GUEST,
                Drop.FRAGMENT_TINY, Drop.IPV6_BAD_SOURCE, Drop.BAD_ICMP_CHECKSUM}) {
            assertEquals(0, stack.stats().drops(d), d + " " + stack.status().get("drops"));
        }
    }

    @Test
    void aPublishedPortReachesAServiceOnTheGuestsIpv6Address() throws Exception {
        int port = 20000 + (int) (ProcessHandle.current().pid() % 20000);
        java.io.File log = java.io.File.createTempFile("slipway-v6-serve", ".log");
        String cp = java.nio.file.Path.of(GuestTool.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Process serve = Commands.startInNs(NS, log, java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, GuestTool.class.getName(), "serve", "::", Integer.toString(port));
        try (var host = java.nio.channels.ServerSocketChannel.open()) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!java.nio.file.Files.readString(log.toPath()).contains("listening") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            host.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            try (var client = new java.net.Socket(InetAddress.getByName("::1"), ((InetSocketAddress) host.getLocalAddress()).getPort())) {
                client.setSoTimeout(10_000);
                var accepted = host.accept();
                stack.connectToGuest(accepted, new InetSocketAddress(InetAddress.getByName(address), port));
                String line = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII))
                        .readLine();
                assertEquals("hello from remote", line);
            }
        } finally {
            Commands.stop(serve);
            log.delete();
        }
        assertTrue(stack.unknownGuestReason(InetAddress.getByName(GATEWAY)).contains("gateway"));
        assertTrue(stack.unknownGuestReason(InetAddress.getByName("fd00:1::5")).contains("outside"));
        assertEquals(null, stack.unknownGuestReason(InetAddress.getByName(address)));
    }
}
