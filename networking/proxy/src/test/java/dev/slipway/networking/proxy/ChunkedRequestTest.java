package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.api.CidrList;

/** Chunked request bodies on the transparent :80 path: decoded, forwarded, and bad framing refused. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChunkedRequestTest {
    static final int LOOPBACK = 0x7f00_0001;
    static final int GUEST = 0xc0a8_4103;
    ProxyRouter router;
    Interceptor interceptor;
    HttpClients clients;
    HttpServer origin;
    final AtomicInteger bodies = new AtomicInteger();
    final AtomicInteger viaProxy = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        origin.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            bodies.incrementAndGet();
            if (exchange.getRequestURI().isAbsolute()) {
                viaProxy.incrementAndGet();
            }
            byte[] answer = ("got " + body.length + ": " + new String(body, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        origin.start();
        MetadataFilter metadata = new MetadataFilter(CidrList.cloudMetadata(), name -> List.of(InetAddress.getByName("127.0.0.1")));
        clients = new HttpClients(Duration.ofSeconds(5), metadata);
        router = new ProxyRouter(0xc0a8_4101, 3128,
                new int[] {origin.getAddress().getPort()}, new int[] {443}, new Routing(ProxyConfig.none("test"), clients, List.of(), null));
        // the origin is its own upstream proxy: requests reach it in absolute form, through OkHttp (the guest's bytes are
        // re-sent, not spliced as for a destination without a proxy)
        ProxyServer proxy = new ProxyServer("http", "127.0.0.1", origin.getAddress().getPort(), null, null);
        router.routing(new Routing(new ProxyConfig(proxy, proxy, null, List.of(), null, false, "test"), clients, List.of(), null));
        interceptor = new Interceptor(router, InetAddress.getByName("192.168.65.254"), metadata,
                new Interceptor.Limits(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10), 32), clients);
    }

    @AfterEach
    void stop() throws IOException {
        interceptor.close();
        clients.close();
        origin.stop(0);
    }

    /** Sends {@code request} as a guest connection to the origin's port (intercepted as :80 is) and reads until the close. */
    private String exchange(String request) throws IOException {
        try (Socket s = SocketGuestConnection.connect(interceptor, GUEST, LOOPBACK, origin.getAddress().getPort())) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static String post(String headers, String body) {
        return "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n" + body;
    }

    @Test
    void aChunkedBodyReachesTheOriginWhole() throws Exception {
        String answer = exchange(post("Transfer-Encoding: chunked\r\nConnection: close\r\n", "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"));
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(answer.endsWith("got 9: Wikipedia"), answer);
        assertEquals(1, viaProxy.get(), "re-sent through the upstream proxy");
    }

    @Test
    void extensionsTrailersAndUppercaseSizesAreReadAndTheConnectionStaysUsable() throws Exception {
        String answer = exchange(post("Transfer-Encoding: Chunked\r\n", "A;name=value\r\n0123456789\r\n1\r\n!\r\n0\r\nX-Checksum: 1\r\n\r\n")
                + "GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(answer.contains("got 11: 0123456789!"), answer);
        assertTrue(answer.endsWith("got 0: "), "the second request on the connection was read where the body ended: " + answer);
    }

    @Test
    void aLargeChunkedBodyStreams() throws Exception {
        StringBuilder body = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            String piece = ("chunk" + i + "-").repeat(100);
            body.append(Integer.toHexString(piece.length())).append("\r\n").append(piece).append("\r\n");
            expected.append(piece);
        }
        body.append("0\r\n\r\n");
        String answer = exchange(post("Transfer-Encoding: chunked\r\nConnection: close\r\n", body.toString()));
        assertTrue(answer.endsWith("got " + expected.length() + ": " + expected), answer.substring(0, 200));
    }

    @Test
    void badFramingIsRefusedWith400() throws Exception {
        for (String bad : List.of("zz\r\nab\r\n0\r\n\r\n", "4\r\nWikiXX\r\n0\r\n\r\n", "1" + "0".repeat(16) + "\r\n", "-1\r\n",
                ";\r\n", "4\r\nWi")) {
            String answer = exchange(post("Transfer-Encoding: chunked\r\n", bad));
            assertTrue(answer.startsWith("HTTP/1.1 400") || answer.startsWith("HTTP/1.1 502") && bad.equals("4\r\nWi"),
                    bad.replace("\r\n", "\\r\\n") + " -> " + answer);
            assertTrue(answer.contains("Connection: close"), answer);
        }
    }

    @Test
    void unknownTransferCodingsGet501AndBothFramingsCloseAfterTheExchange() throws Exception {
        String gzip = exchange(post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"));
        assertTrue(gzip.startsWith("HTTP/1.1 501"), gzip);
        String both = exchange(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "2\r\nok\r\n0\r\n\r\n")
                + "GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertTrue(both.contains("got 2: ok"), both);
        assertTrue(both.contains("Connection: close"), both);
        assertEquals(1, both.split("HTTP/1.1 ", -1).length - 1, "nothing after the chunked body is taken as a request: " + both);
    }

    @Test
    void theDecoderStopsAtTheBodysEndAndBoundsItsLines() throws Exception {
        InputStream rest = new ByteArrayInputStream("3\r\nabc\r\n0\r\n\r\nNEXT".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("abc", new String(new ChunkedInput(rest).readAllBytes(), StandardCharsets.ISO_8859_1));
        assertEquals("NEXT", new String(rest.readAllBytes(), StandardCharsets.ISO_8859_1));
        InputStream longLine = new ByteArrayInputStream(("1;" + "x".repeat(5000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrowsMalformed(longLine).contains("longer than"));
        InputStream manyTrailers = new ByteArrayInputStream(("0\r\n" + "T: 1\r\n".repeat(100) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrowsMalformed(manyTrailers).contains("trailer"));
    }

    private static String assertThrowsMalformed(InputStream in) {
        try {
            new ChunkedInput(in).readAllBytes();
        } catch (ChunkedInput.Malformed e) {
            return e.getMessage();
        } catch (IOException e) {
            throw new AssertionError("not the decoder's error: " + e);
        }
        throw new AssertionError("no error");
    }
}
