package dev.slipway.networking.stack;

import dev.slipway.networking.stack.tcp.Tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.api.OutboundRouter;

/** The stack consults the outbound router for each new guest connection: direct, redirected, refused. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OutboundRouterTest {
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;
    ServerSocket interceptor;
    final List<String> redirected = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
        interceptor = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        stack.close();
        interceptor.close();
    }

    /** Answers every accepted connection with "via PORT-OF-PEER:" followed by the bytes it got. */
    Thread serveInterceptor() {
        Thread t = new Thread(() -> {
            try (Socket s = interceptor.accept()) {
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                byte[] b = new byte[5];
                int n = in.readNBytes(b, 0, b.length);
                OutputStream out = s.getOutputStream();
                out.write(("via" + s.getPort() + ":" + new String(b, 0, n)).getBytes());
                out.flush();
                s.shutdownOutput();
                in.read();
            } catch (Exception e) {
                // the test sees the missing answer
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void redirectedConnectionReachesTheInterceptorWhichLearnsTheOriginalDestination() throws Exception {
        int origin = Frames.HOST_ALIAS; // the host's loopback if the redirect failed: nothing leaves the machine
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return dstIp == origin ? (InetSocketAddress) interceptor.getLocalSocketAddress() : null;
            }

            @Override
            public void redirected(InetSocketAddress local, int guestIp, int guestPort, int dstIp, int dstPort) {
                redirected.add(local.getPort() + ">" + Ip4.toString(dstIp) + ":" + dstPort);
            }
        });
        serveInterceptor();
        String answer = new String(guest.tcpExchange(origin, 443, "hello".getBytes(), 14));
        assertEquals(1, redirected.size(), redirected.toString());
        String port = redirected.get(0).split(">")[0];
        assertEquals("via" + port + ":hello", answer);
        assertTrue(redirected.get(0).endsWith(">192.168.65.254:443"), redirected.toString());
    }

    @Test
    void refusedConnectionGetsAResetAndARouterExceptionRefusesToo() throws Exception {
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                if (dstPort == 444) {
                    throw new IllegalStateException("broken router");
                }
                return REFUSE;
            }

            @Override
            public void redirected(InetSocketAddress local, int guestIp, int guestPort, int dstIp, int dstPort) {
            }
        });
        for (int port : new int[] {443, 444}) {
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                    Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 33000 + port, port, 100, 0, Tcp.SYN, 1000, new byte[0], new byte[0]), 64, 1, 0));
            ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & Tcp.RST) != 0, 5000);
            assertNotNull(rst, "a reset for port " + port);
        }
        assertEquals(0, stack.tcp.size());
    }

    @Test
    void gatewayPortsOtherThanDnsCanBeRoutedToAnExplicitProxy() throws Exception {
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return dstPort == 3128 ? (InetSocketAddress) interceptor.getLocalSocketAddress() : null;
            }

            @Override
            public void redirected(InetSocketAddress local, int guestIp, int guestPort, int dstIp, int dstPort) {
                redirected.add(Ip4.toString(dstIp) + ":" + dstPort);
            }
        });
        serveInterceptor();
        String answer = new String(guest.tcpExchange(Frames.GATEWAY, 3128, "hello".getBytes(), 14));
        assertTrue(answer.endsWith(":hello"), answer);
        assertEquals(List.of("192.168.65.1:3128"), redirected);
    }
}
