package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.api.CidrList;

/**
 * The interceptor fed as the stack feeds it (a guest connection handed over with its destination): the metadata filter on the explicit proxy (CONNECT and absolute-form requests) and
 * on the transparent paths, with a resolver of its own so that names resolve without a network.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterceptorTest {
    static final int GATEWAY = 0xc0a8_4101; // 192.168.65.1
    static final int EXPLICIT_PORT = 3128;
    /** One literal in each entry of the default list, as a guest would write it in a URL or CONNECT. */
    static final List<String> METADATA_LITERALS = List.of("169.254.169.254", "100.100.100.200", "[fd00:ec2::254]",
            "168.63.129.16", "[fe80::1]");
    /** A name for each entry, resolved by the test's resolver to an address inside it. */
    static final Map<String, String> METADATA_NAMES = Map.of("aws.metadata.test", "169.254.169.254",
            "alibaba.metadata.test", "100.100.100.200", "aws6.metadata.test", "fd00:ec2::254",
            "azure.metadata.test", "168.63.129.16", "linklocal6.metadata.test", "fe80::a9fe:a9fe");

    ProxyRouter router;
    Interceptor interceptor;
    HttpClients clients;
    ServerSocket origin;
    final AtomicInteger originConnections = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        origin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread serve = new Thread(this::serveOrigin, "test-origin");
        serve.setDaemon(true);
        serve.start();
        MetadataFilter metadata = new MetadataFilter(CidrList.cloudMetadata(), InterceptorTest::resolve);
        clients = new HttpClients(Duration.ofSeconds(5), metadata);
        router = new ProxyRouter(GATEWAY, EXPLICIT_PORT,
                new int[] {80}, new int[] {443}, new Routing(ProxyConfig.none("test"), clients, List.of(), null));
        interceptor = new Interceptor(router, InetAddress.getByName("192.168.65.254"), metadata,
                new Interceptor.Limits(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10), 32), clients);
    }

    @AfterEach
    void stop() throws IOException {
        interceptor.close();
        clients.close();
        origin.close();
    }

    static List<InetAddress> resolve(String name) throws UnknownHostException {
        String address = name.equals("ordinary.test") ? "127.0.0.1" : METADATA_NAMES.get(name);
        if (address == null) {
            throw new UnknownHostException(name + " (not a test name)");
        }
        return List.of(InetAddress.getByName(address));
    }

    /** An HTTP origin on loopback answering every request with "ok" and closing. */
    private void serveOrigin() {
        while (!origin.isClosed()) {
            try (Socket s = origin.accept()) {
                originConnections.incrementAndGet();
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                for (int last = 0, c; (c = in.read()) >= 0; ) {
                    last = last << 8 | c;
                    if (last == 0x0d0a0d0a) {
                        break;
                    }
                }
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        .getBytes(StandardCharsets.ISO_8859_1));
            } catch (IOException e) {
                // closed by the test, or a client that went away
            }
        }
    }

    /** A connection handed to the interceptor as the stack hands it a guest connection to {@code dstIp:dstPort}. */
    private Socket guestConnection(int dstIp, int dstPort) throws IOException {
        return SocketGuestConnection.connect(interceptor, Frames.GUEST, dstIp, dstPort);
    }

    /** Sends {@code request} and reads until the interceptor closes the connection. */
    private String exchange(int dstIp, int dstPort, String request) throws IOException {
        try (Socket s = guestConnection(dstIp, dstPort)) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private String explicit(String request) throws IOException {
        return exchange(GATEWAY, EXPLICIT_PORT, request);
    }

    private static void assertRefused(String answer, String what) {
        assertTrue(answer.startsWith("HTTP/1.1 403 Forbidden\r\n"), what + ": " + answer);
        assertTrue(answer.contains("is a cloud metadata destination; the guest may not reach it"), what + ": " + answer);
    }

    @Test
    void explicitConnectRefusesEveryMetadataDestinationByAddressAndByName() throws Exception {
        for (String literal : METADATA_LITERALS) {
            assertRefused(explicit("CONNECT " + literal + ":80 HTTP/1.1\r\nHost: " + literal + ":80\r\n\r\n"), literal);
        }
        for (String name : METADATA_NAMES.keySet()) {
            assertRefused(explicit("CONNECT " + name + ":443 HTTP/1.1\r\nHost: " + name + ":443\r\n\r\n"), name);
        }
        assertEquals(METADATA_LITERALS.size() + METADATA_NAMES.size(), interceptor.refusedMetadata.get());
        assertEquals(0, interceptor.failures.get(), "a refusal is not a failure of the proxy");
    }

    @Test
    void explicitConnectToAnOrdinaryLoopbackDestinationStillTunnels() throws Exception {
        for (String host : List.of("127.0.0.1", "ordinary.test")) {
            String answer = explicit("CONNECT " + host + ":" + origin.getLocalPort() + " HTTP/1.1\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n"), host + ": " + answer);
            assertTrue(answer.endsWith("ok"), answer);
        }
    }

    @Test
    void explicitAbsoluteFormRequestsRefuseEveryMetadataDestinationByAddressAndByName() throws Exception {
        for (String host : METADATA_LITERALS) {
            assertRefused(explicit("GET http://" + host + "/latest/meta-data/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), host);
        }
        for (String name : METADATA_NAMES.keySet()) {
            assertRefused(explicit("GET http://" + name + "/latest/meta-data/ HTTP/1.1\r\nHost: " + name + "\r\n\r\n"), name);
        }
        String ordinary = explicit("GET http://ordinary.test:" + origin.getLocalPort() + "/ HTTP/1.1\r\nHost: ordinary.test\r\n"
                + "Connection: close\r\n\r\n");
        assertTrue(ordinary.startsWith("HTTP/1.1 200 OK\r\n") && ordinary.endsWith("ok"), ordinary);
    }

    @Test
    void theDirectClientWillNotConnectToAMetadataAddressEvenWhenAskedDirectly() throws Exception {
        // OkHttp connects to address literals without a lookup: the client's sockets refuse them
        var call = clients.direct().newCall(new okhttp3.Request.Builder().url("http://169.254.169.254/").build());
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, call::execute);
        assertTrue(MetadataFilter.refusal(e) != null, e.toString());
    }

    @Test
    void transparentInterceptionRefusesMetadataByOriginAddressAndByHostHeader() throws Exception {
        for (String literal : List.of("169.254.169.254", "100.100.100.200", "168.63.129.16")) {
            int ip = NoProxy.cidr(literal)[0];
            assertRefused(exchange(ip, 80, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"), literal + " as the origin");
            long before = interceptor.refusedMetadata.get();
            assertEquals("", exchange(ip, 443, "\u0016\u0003\u0001not a hello"), "TLS to " + literal + " is closed");
            assertEquals(before + 1, interceptor.refusedMetadata.get());
        }
        // a Host naming a metadata address is refused even where the bytes would go to the origin address
        // (IPv6 Host literals are never taken as the destination: the origin address is)
        int loopback = 0x7f00_0001;
        for (String host : List.of("169.254.169.254", "100.100.100.200", "168.63.129.16")) {
            assertRefused(exchange(loopback, 80, "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), host + " as the Host");
        }
        int seen = originConnections.get();
        String ordinary = exchange(loopback, origin.getLocalPort(), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertTrue(ordinary.startsWith("HTTP/1.1 200 OK\r\n") && ordinary.endsWith("ok"), ordinary);
        assertEquals(seen + 1, originConnections.get());
    }

    @Test
    void throughAnUpstreamProxyMetadataLiteralsAreRefusedBeforeTheProxyIsAsked() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            ProxyServer proxy = new ProxyServer("http", "127.0.0.1", upstream.getLocalPort(), null, null);
            router.routing(new Routing(new ProxyConfig(proxy, proxy, null, List.of(), null, false, "test"), clients, List.of(), null));
            for (String literal : METADATA_LITERALS) {
                assertRefused(explicit("CONNECT " + literal + ":443 HTTP/1.1\r\n\r\n"), literal);
                assertRefused(explicit("GET http://" + literal + "/ HTTP/1.1\r\n\r\n"), literal);
            }
            upstream.setSoTimeout(200);
            assertFalse(accepts(upstream), "the upstream proxy was never contacted");
        }
    }

    private static boolean accepts(ServerSocket s) {
        try (Socket ignored = s.accept()) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void slipwaysOwnAnswersCarryTheReasonAndCloseTheConnection() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        HttpFraming.respond(out, 403, "the registry x is not allowed", true);
        String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.startsWith("HTTP/1.1 403 Forbidden\r\n"), text);
        assertTrue(text.contains("Connection: close\r\n"), text);
        assertTrue(text.endsWith("\r\n\r\nSlipway: the registry x is not allowed\n"), text);
    }

    /** The guest's address for the router's records. */
    static final class Frames {
        static final int GUEST = 0xc0a8_4103;
    }
}
