package dev.slipway.networking.stack;

import dev.slipway.networking.stack.tcp.Tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Idle TCP connections and UDP flows are torn down, on both sides, after their timeouts. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TimeoutsTest {
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.builder().tcpIdleTimeoutSeconds(1).udpIdleTimeoutSeconds(1).build());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    @Test
    void idleTcpConnectionIsResetTowardsGuestAndClosedTowardsHost() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Integer> hostRead = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    return s.getInputStream().read();
                } catch (IOException e) {
                    return -2;
                }
            });
            int port = server.getLocalPort();
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                    Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 41000, port, 500, 0, Tcp.SYN, 65535, new byte[0], new byte[0]), 64, 1, 0));
            ByteBuffer synAck = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & 0x12) == 0x12, 5000);
            assertNotNull(synAck);
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                    Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 41000, port, 501, synAck.getInt(38) + 1, Tcp.ACK, 65535,
                            new byte[0], new byte[0]), 64, 2, 0));
            ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & Tcp.RST) != 0, 6000);
            assertNotNull(rst, "a reset after the idle timeout");
            int read = hostRead.get(10, TimeUnit.SECONDS);
            assertTrue(read < 0, "the host side saw the connection end: " + read);
        }
    }

    @Test
    void idleUdpFlowIsClosed() throws Exception {
        try (DatagramSocket sink = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS,
                    Frames.udp(Frames.GUEST, Frames.HOST_ALIAS, 4444, sink.getLocalPort(), new byte[] {1}), 64, 3, 0));
            for (int i = 0; i < 20 && flows() == 0; i++) {
                Thread.sleep(50);
            }
            assertEquals(1, flows());
            long until = System.currentTimeMillis() + 6000;
            while (flows() > 0 && System.currentTimeMillis() < until) {
                Thread.sleep(100);
            }
            assertEquals(0, flows());
        }
    }

    private int flows() throws InterruptedException {
        Thread.sleep(50);
        @SuppressWarnings("unchecked")
        var udp = (java.util.Map<String, Object>) stack.status().get("udp");
        return ((Number) udp.get("flows")).intValue();
    }
}
