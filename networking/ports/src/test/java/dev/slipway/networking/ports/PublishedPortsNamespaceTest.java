package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * Published ports into a real network namespace attached to the stack through a tap device:
 * host clients (curl, Java sockets) reach servers running inside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PublishedPortsNamespaceTest {
    static final String NS = "slw-test-ports";
    GuestLab lab;
    PortForwarder forwarder;
    Process httpd, echo;
    Path webRoot;
    String guest;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "python3", "curl");
        lab = GuestLab.start(NS, "slwp0");
        guest = lab.guest;
        forwarder = lab.forwarder;
        webRoot = Files.createTempDirectory("slipway-ports-www");
        Files.writeString(webRoot.resolve("index.html"), "hello from the guest\n");
        httpd = Commands.startInNs(NS, "busybox", "httpd", "-f", "-p", "80", "-h", webRoot.toString());
        echo = Commands.startInNs(NS, "python3", "-c", GuestSide.ECHO_SERVER);
        lab.awaitListening(80);
        lab.awaitListening(7);
    }

    @AfterAll
    void stop() throws Exception {
        Commands.stop(httpd);
        Commands.stop(echo);
        if (lab != null) {
            lab.close();
        }
        if (webRoot != null) {
            Files.deleteIfExists(webRoot.resolve("index.html"));
            Files.deleteIfExists(webRoot);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private int publish(String protocol, int guestPort) throws IOException {
        int p = freePort();
        forwarder.expose(new PublishedPort(protocol, "127.0.0.1:" + p, guest + ":" + guestPort), false);
        return p;
    }

    @Test
    void curlOnTheHostReachesTheHttpServerInTheGuestThroughAPublishedPort() throws Exception {
        int p = publish("tcp", 80);
        Commands.Out r = Commands.run(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + p + "/index.html");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals("hello from the guest\n", r.stdout());
        forwarder.unexpose("tcp", "127.0.0.1:" + p);
    }

    @Test
    void curlThroughAPublishedUnixSocketReachesTheGuest() throws Exception {
        Path dir = Files.createTempDirectory("slipway-ports-sock");
        Path sock = dir.resolve("web.sock");
        try {
            forwarder.expose(new PublishedPort("unix", sock.toString(), "tcp://" + guest + ":80"), false);
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            Commands.Out r = Commands.run(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10", "--unix-socket", sock.toString(),
                    "http://localhost/index.html");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals("hello from the guest\n", r.stdout());
            forwarder.unexpose("unix", sock.toString());
            assertTrue(Files.notExists(sock), "the socket file goes with the publication");
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void thousandConcurrentConnectionsAllEchoTheirOwnBytes() throws Exception {
        int p = publish("tcp", 7);
        List<SocketChannel> open = new ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) {
                SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", p));
                open.add(c);
            }
            for (int i = 0; i < open.size(); i++) {
                open.get(i).write(ByteBuffer.wrap(("connection " + i + "\n").getBytes(StandardCharsets.US_ASCII)));
            }
            for (int i = 0; i < open.size(); i++) {
                byte[] expected = ("connection " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                ByteBuffer got = ByteBuffer.allocate(expected.length);
                open.get(i).socket().setSoTimeout(30_000);
                var in = open.get(i).socket().getInputStream();
                int n = 0;
                while (n < expected.length) {
                    int r = in.read(got.array(), n, expected.length - n);
                    assertTrue(r > 0, "connection " + i + " ended early");
                    n += r;
                }
                assertArrayEquals(expected, got.array(), "connection " + i);
            }
        } finally {
            for (SocketChannel c : open) {
                c.close();
            }
            forwarder.unexpose("tcp", "127.0.0.1:" + p);
        }
    }

    @Test
    void largeTransferBothWaysArrivesWithTheSameChecksum() throws Exception {
        int p = publish("tcp", 7);
        long size = 64L << 20;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest received = MessageDigest.getInstance("SHA-256");
        long[] receivedBytes = {0};
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", p)) {
            s.setSoTimeout(60_000);
            Thread reader = new Thread(() -> {
                byte[] b = new byte[1 << 16];
                try {
                    var in = s.getInputStream();
                    for (int n; (n = in.read(b)) > 0; ) {
                        received.update(b, 0, n);
                        receivedBytes[0] += n;
                    }
                } catch (IOException e) {
                    // the byte count below tells
                }
            });
            reader.start();
            SplittableRandom random = new SplittableRandom(42);
            byte[] chunk = new byte[1 << 16];
            var out = s.getOutputStream();
            for (long at = 0; at < size; at += chunk.length) {
                for (int i = 0; i < chunk.length; i += 8) {
                    long v = random.nextLong();
                    for (int j = 0; j < 8; j++) {
                        chunk[i + j] = (byte) (v >>> (j * 8));
                    }
                }
                sent.update(chunk);
                out.write(chunk);
            }
            s.shutdownOutput();
            reader.join(90_000);
        } finally {
            forwarder.unexpose("tcp", "127.0.0.1:" + p);
        }
        assertEquals(size, receivedBytes[0]);
        assertArrayEquals(sent.digest(), received.digest());
    }

    @Test
    void udpEchoThroughAPublishedUdpPortKeepsEachClientsFlow() throws Exception {
        int p = publish("udp", 7);
        try (DatagramChannel a = DatagramChannel.open(); DatagramChannel b = DatagramChannel.open()) {
            a.connect(new InetSocketAddress("127.0.0.1", p));
            b.connect(new InetSocketAddress("127.0.0.1", p));
            a.socket().setSoTimeout(5000);
            b.socket().setSoTimeout(5000);
            for (int i = 0; i < 20; i++) {
                byte[] ma = ("a " + i).getBytes(StandardCharsets.US_ASCII);
                byte[] mb = new byte[1400 + i];
                mb[0] = (byte) i;
                a.write(ByteBuffer.wrap(ma));
                b.write(ByteBuffer.wrap(mb));
                assertArrayEquals(ma, receive(a, 5000));
                assertArrayEquals(mb, receive(b, 5000));
            }
            // larger than the MTU: fragmented towards the guest, reassembled by its kernel
            byte[] big = new byte[8000];
            new SplittableRandom(7).nextBytes(big);
            a.write(ByteBuffer.wrap(big));
            assertArrayEquals(big, receive(a, 5000));
        } finally {
            forwarder.unexpose("udp", "127.0.0.1:" + p);
        }
    }

    private static byte[] receive(DatagramChannel c, long timeoutMillis) throws Exception {
        c.configureBlocking(false);
        ByteBuffer b = ByteBuffer.allocate(65536);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (c.read(b) > 0) {
                b.flip();
                byte[] out = new byte[b.remaining()];
                b.get(out);
                return out;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no echo within " + timeoutMillis + " ms");
    }

    @Test
    void dhcpLeasesAnswersLikeGvisorTapVsockAnAddressToMacObject() throws Exception {
        var r = new dev.slipway.networking.stack.component.DhcpLeasesRoute(lab.network)
                .handle(new dev.slipway.api.control.ControlRoute.Request("GET", Map.of(), new byte[0]));
        assertEquals(200, r.status());
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(body.matches("\\{\"" + java.util.regex.Pattern.quote(guest) + "\":\"([0-9a-f]{2}:){5}[0-9a-f]{2}\"\\}\n"), body);
    }

    @Test
    void aClosedGuestPortResetsTheHostConnection() throws Exception {
        int p = publish("tcp", 9);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", p)) {
            s.setSoTimeout(10_000);
            int r;
            try {
                r = s.getInputStream().read();
            } catch (java.net.SocketException e) {
                r = -2;
            }
            assertTrue(r < 0, "nothing listens on the guest's port 9: the host connection ends");
        } finally {
            forwarder.unexpose("tcp", "127.0.0.1:" + p);
        }
    }
}
