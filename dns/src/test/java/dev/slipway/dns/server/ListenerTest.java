package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import dev.slipway.testing.Prerequisites;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ListenerTest {

    private final DnsStats stats = new DnsStats();
    private DnsServer server;
    private DnsListener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.deactivate();
        }
        if (server != null) {
            server.deactivate();
        }
    }

    private InetSocketAddress start(Map<String, Object> config) {
        server = new DnsServer(stats, Configs.dns(config));
        listener = new DnsListener(stats, Configs.dns(config), "127.0.0.1:0");
        listener.setDnsService(server);
        return listener.address();
    }

    private static SimpleResolver resolver(InetSocketAddress address, boolean tcp) {
        SimpleResolver resolver = new SimpleResolver(address);
        resolver.setTCP(tcp);
        resolver.setTimeout(Duration.ofSeconds(3));
        return resolver;
    }

    @Test
    void withoutAnAddressNoHostSocketIsOpened() {
        DnsListener idle = new DnsListener(stats, Configs.dns(), null);
        assertNull(idle.address());
        idle.deactivate();
    }

    @Test
    void theConfiguredAddressWinsOverTheFrameworkProperty() {
        DnsListener configured = new DnsListener(stats, Configs.dns(Map.of("listen", "127.0.0.1:0")), null);
        try {
            assertEquals("127.0.0.1", configured.address().getAddress().getHostAddress());
        } finally {
            configured.deactivate();
        }
    }

    @Test
    void answersOverUdpAndTcp() throws Exception {
        InetSocketAddress address = start(Map.of());
        for (boolean tcp : new boolean[] {false, true}) {
            Message answer = resolver(address, tcp).send(Client.query("host.docker.internal", Type.A));
            assertEquals("192.168.65.254", ((ARecord) answer.getSection(Section.ANSWER).get(0)).getAddress().getHostAddress());
        }
    }

    @Test
    void pipelinedTcpQueriesOnOneConnectionAreAllAnswered() throws Exception {
        InetSocketAddress address = start(Map.of());
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(5000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            for (int i = 0; i < 50; i++) {
                byte[] q = Client.query(i % 2 == 0 ? "host.docker.internal" : "gateway.docker.internal", Type.A).toWire();
                out.writeShort(q.length);
                out.write(q);
            }
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (int i = 0; i < 50; i++) {
                byte[] a = in.readNBytes(in.readUnsignedShort());
                assertEquals(1, new Message(a).getSection(Section.ANSWER).size());
            }
        }
    }

    @Test
    void clientsOutsideTheAllowedNetworksGetNothing() throws Exception {
        InetSocketAddress address = start(Map.of("allowedClients", new String[] {"192.168.65.0/24"}));
        assertThrows(IOException.class, () -> resolver(address, false).send(Client.query("host.docker.internal", Type.A)));
        assertThrows(IOException.class, () -> resolver(address, true).send(Client.query("host.docker.internal", Type.A)));
        assertTrue(stats.drops(DnsStats.Drop.NOT_ALLOWED) >= 2);
    }

    @Test
    void replacingTheAnsweringServiceWhileQueriesFlowLosesNone() throws Exception {
        InetSocketAddress address = start(Map.of());
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread client = new Thread(() -> {
            try (DatagramSocket socket = new DatagramSocket()) {
                socket.setSoTimeout(3000);
                byte[] buffer = new byte[512];
                for (int i = 0; i < 20000 && !stop.get(); i++) {
                    byte[] q = Client.query("gateway.docker.internal", Type.A).toWire();
                    socket.send(new DatagramPacket(q, q.length, address));
                    try {
                        DatagramPacket p = new DatagramPacket(buffer, buffer.length);
                        socket.receive(p);
                        answered.incrementAndGet();
                    } catch (SocketTimeoutException e) {
                        lost.incrementAndGet();
                    }
                }
            } catch (Exception e) {
                lost.addAndGet(1_000_000);
            }
        });
        client.start();
        for (int swap = 0; swap < 5; swap++) {
            Thread.sleep(100);
            DnsServer old = server;
            listener.unsetDnsService(old);
            Thread.sleep(30);
            server = new DnsServer(stats, Configs.dns());
            listener.setDnsService(server);
            old.deactivate();
        }
        Thread.sleep(100);
        stop.set(true);
        client.join(10000);
        assertEquals(0, lost.get());
        assertTrue(answered.get() > 100, "answered " + answered.get());
        assertEquals(0, stats.drops(DnsStats.Drop.HELD_OVERFLOW) + stats.drops(DnsStats.Drop.HELD_EXPIRED));
    }

    @Test
    void tcpConnectionsBeyondTheLimitAreClosedAndCounted() throws Exception {
        InetSocketAddress address = start(Map.of("maxTcpConnections", 2));
        try (Socket a = new Socket(address.getAddress(), address.getPort());
                Socket b = new Socket(address.getAddress(), address.getPort());
                Socket c = new Socket(address.getAddress(), address.getPort())) {
            c.setSoTimeout(3000);
            assertEquals(-1, c.getInputStream().read());
            assertEquals(1, stats.drops(DnsStats.Drop.TCP_LIMIT));
            a.setSoTimeout(3000);
            byte[] q = Client.query("host.docker.internal", Type.A).toWire();
            DataOutputStream out = new DataOutputStream(a.getOutputStream());
            out.writeShort(q.length);
            out.write(q);
            out.flush();
            DataInputStream in = new DataInputStream(a.getInputStream());
            assertEquals(1, new Message(in.readNBytes(in.readUnsignedShort())).getSection(Section.ANSWER).size());
        }
    }

    @Test
    void dnsperfLosesNoQueryWhileTheAnsweringLogicIsReplacedEveryHundredMilliseconds() throws Exception {
        Prerequisites.assumeCommands("dnsperf");
        InetSocketAddress address = start(Map.of());
        java.nio.file.Path queries = java.nio.file.Files.createTempFile("slipway-dns", ".txt");
        try {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                text.append("host.docker.internal A\ngateway.docker.internal AAAA\n");
            }
            java.nio.file.Files.writeString(queries, text);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger swaps = new AtomicInteger();
            Thread swapper = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                    DnsServer old = server;
                    listener.unsetDnsService(old);
                    old.deactivate();
                    server = new DnsServer(stats, Configs.dns());
                    listener.setDnsService(server);
                    swaps.incrementAndGet();
                }
            });
            swapper.start();
            String out = RealClientsTest.run("dnsperf", "-s", "127.0.0.1", "-p", String.valueOf(address.getPort()),
                    "-d", queries.toString(), "-l", "3", "-c", "4", "-Q", "20000");
            stop.set(true);
            swapper.join(5000);
            assertTrue(swaps.get() >= 10, "swaps: " + swaps.get());
            assertTrue(out.contains("Queries lost:         0 "), out);
        } finally {
            java.nio.file.Files.deleteIfExists(queries);
        }
    }
}
