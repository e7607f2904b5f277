package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.api.OutboundRouter;
import dev.slipway.networking.stack.tcp.Tcp;

/** The stack consults the outbound router for each new guest connection: direct, intercepted (handed over, no socket), redirected, refused. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OutboundRouterTest {
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;
    ServerSocket redirectTarget;
    final List<String> intercepted = new CopyOnWriteArrayList<>();
    final List<Long> sockets = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
        redirectTarget = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        stack.close();
        redirectTarget.close();
    }

    /** A router that intercepts connections to {@code port}: answers "via DST:" and the guest's first five bytes. */
    OutboundRouter interceptingPort(int port) {
        return new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return dstPort == port ? INTERCEPT : null;
            }

            @Override
            public void intercept(GuestConnection connection) {
                intercepted.add(Ip4.toString(connection.destinationIp()) + ":" + connection.destinationPort()
                        + " from " + Ip4.toString(connection.guestIp()));
                Thread t = new Thread(() -> answer(connection), "test-interceptor");
                t.setDaemon(true);
                t.start();
            }
        };
    }

    void answer(GuestConnection connection) {
        try (connection) {
            connection.readTimeout(5000);
            byte[] b = new byte[5];
            int n = connection.input().readNBytes(b, 0, b.length);
            sockets.add(openSockets());
            connection.output().write(("via " + connection.destinationPort() + ":" + new String(b, 0, n)).getBytes());
            connection.shutdownOutput();
            connection.input().read();
        } catch (Exception e) {
            // the test sees the missing answer
        }
    }

    /** The sockets this process has open. */
    static long openSockets() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    @Test
    void interceptedConnectionIsHandedToTheRouterWithoutAnyHostSocket() throws Exception {
        stack.router(interceptingPort(443));
        long before = openSockets();
        String answer = new String(guest.tcpExchange(Frames.HOST_ALIAS, 443, "hello".getBytes(), 13));
        assertEquals("via 443:hello", answer);
        assertEquals(List.of("192.168.65.254:443 from " + Ip4.toString(Frames.GUEST)), intercepted);
        assertEquals(List.of(before), sockets, "no socket (listener or connection) was opened for the intercepted connection");
    }

    @Test
    void redirectedConnectionGoesToTheRoutersAddress() throws Exception {
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return dstIp == Frames.HOST_ALIAS ? (InetSocketAddress) redirectTarget.getLocalSocketAddress() : null;
            }

            @Override
            public void intercept(GuestConnection connection) {
                throw new AssertionError("nothing is intercepted");
            }
        });
        Thread t = new Thread(() -> {
            try (Socket s = redirectTarget.accept()) {
                s.setSoTimeout(5000);
                byte[] b = s.getInputStream().readNBytes(5);
                s.getOutputStream().write(("redirected:" + new String(b)).getBytes());
                s.shutdownOutput();
                s.getInputStream().read();
            } catch (IOException e) {
                // the test sees the missing answer
            }
        });
        t.setDaemon(true);
        t.start();
        assertEquals("redirected:hello", new String(guest.tcpExchange(Frames.HOST_ALIAS, 443, "hello".getBytes(), 16)));
    }

    @Test
    void aRouterFailingToTakeTheConnectionResetsIt() throws Exception {
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return INTERCEPT;
            }

            @Override
            public void intercept(GuestConnection connection) {
                throw new IllegalStateException("broken interceptor");
            }
        });
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 33443, 443, 100, 0, Tcp.SYN, 1000, new byte[0], new byte[0]), 64, 1, 0));
        assertNotNull(guest.await(f -> MiniGuest.isTcp(f, 443) && (f.get(47) & Tcp.RST) != 0, 5000), "a reset");
        assertEquals(0, stack.tcp.size());
    }

    @Test
    void theRoutersAbortResetsTheGuest() throws Exception {
        stack.router(new OutboundRouter() {
            @Override
            public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
                return INTERCEPT;
            }

            @Override
            public void intercept(GuestConnection connection) {
                Thread t = new Thread(() -> {
                    try {
                        connection.readTimeout(5000);
                        connection.input().readNBytes(5);
                    } catch (IOException e) {
                        // aborted below anyway
                    }
                    connection.abort();
                });
                t.setDaemon(true);
                t.start();
            }
        });
        guest.send(Frames.HOST_ALIAS, 40000, 443, 1000, 0, Tcp.SYN, new byte[0], new byte[0]);
        ByteBuffer synAck = guest.await(f -> MiniGuest.isTcp(f, 443) && (f.get(47) & 0x12) == 0x12, 5000);
        assertNotNull(synAck, "no SYN-ACK");
        guest.send(Frames.HOST_ALIAS, 40000, 443, 1001, synAck.getInt(38) + 1, Tcp.ACK | Tcp.PSH, new byte[0], "hello".getBytes());
        assertNotNull(guest.await(f -> MiniGuest.isTcp(f, 443) && (f.get(47) & Tcp.RST) != 0, 5000), "a reset after the router's abort");
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
            public void intercept(GuestConnection connection) {
                throw new AssertionError("nothing is intercepted");
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
    void gatewayPortsOtherThanDnsCanBeInterceptedAsAnExplicitProxy() throws Exception {
        stack.router(interceptingPort(3128));
        String answer = new String(guest.tcpExchange(Frames.GATEWAY, 3128, "hello".getBytes(), 14));
        assertEquals("via 3128:hello", answer);
        assertEquals(List.of("192.168.65.1:3128 from " + Ip4.toString(Frames.GUEST)), intercepted);
    }
}
