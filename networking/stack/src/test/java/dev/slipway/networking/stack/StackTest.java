package dev.slipway.networking.stack;

import dev.slipway.networking.stack.ip.Checksum;

import dev.slipway.networking.stack.tcp.Tcp;
import dev.slipway.networking.stack.link.Ethernet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The frame path driven directly with crafted frames: protocol behaviour and hostile input. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StackTest {
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.builder()
                .staticLeases(Map.of(0x02_00_00_00_00_99L, Ip4.parse("192.168.65.50")))
                .maxHalfOpenConnections(64)
                .maxTcpConnections(100)
                .build());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private long drops(Drop d) throws InterruptedException {
        settle();
        stack.loop.lock();
        try {
            return stack.stats.drops(d);
        } finally {
            stack.loop.unlock();
        }
    }

    /** Waits until the stack has consumed every injected frame. */
    private void settle() throws InterruptedException {
        long before = -1;
        for (int i = 0; i < 100; i++) {
            long now = stack.stats.rxFrames();
            if (now == before) {
                return;
            }
            before = now;
            Thread.sleep(30);
        }
    }

    private ByteBuffer icmpEchoTo(int dst, int id) {
        return Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 1, Frames.GUEST, dst,
                Frames.icmpEcho(id, 1, "ping".getBytes()), 64, 9, 0);
    }

    @Test
    void dhcpGivesPoolAddressesFromDotThreeAndStaticLeasesByMac() throws Exception {
        assertEquals(Frames.GUEST, guest.address);
        MiniGuest fixed = MiniGuest.on(link, 0x02_00_00_00_00_99L);
        assertEquals(Ip4.parse("192.168.65.50"), fixed.dhcp());
    }

    @Test
    void dhcpOffersRouterDnsMtuDomainAndALongLease() throws Exception {
        link.inject(Frames.dhcp(0x02_00_00_00_00_42L, 1, 77, 0));
        ByteBuffer offer = guest.await(f -> Frames.dhcpType(f) == 2, 3000);
        assertNotNull(offer);
        Map<Integer, byte[]> options = new java.util.HashMap<>();
        for (int i = 14 + 28 + 240; i < offer.limit(); ) {
            int code = offer.get(i) & 0xff;
            if (code == 255) {
                break;
            }
            byte[] v = new byte[offer.get(i + 1) & 0xff];
            offer.get(i + 2, v);
            options.put(code, v);
            i += 2 + v.length;
        }
        assertEquals(Frames.GATEWAY, ByteBuffer.wrap(options.get(3)).getInt());
        assertEquals(Frames.GATEWAY, ByteBuffer.wrap(options.get(6)).getInt());
        assertEquals(1500, ByteBuffer.wrap(options.get(26)).getShort());
        assertEquals("slipway.internal", new String(options.get(15)));
        assertTrue(ByteBuffer.wrap(options.get(51)).getInt() >= 86400);
        assertNotNull(options.get(119), "search list");
    }

    @Test
    void gatewayAndHostAliasAnswerPings() throws Exception {
        for (int dst : new int[] {Frames.GATEWAY, Frames.HOST_ALIAS}) {
            link.inject(icmpEchoTo(dst, dst & 0xff));
            ByteBuffer reply = guest.await(f -> f.limit() > 34 && f.get(23) == 1 && f.get(34) == 0, 3000);
            assertNotNull(reply, "echo reply from " + Ip4.toString(dst));
            assertEquals(dst, reply.getInt(26));
            assertEquals(0, Checksum.compute(reply, 34, reply.limit() - 34));
        }
    }

    @Test
    void malformedFramesAreCountedAndNeverEscape() throws Exception {
        link.inject(ByteBuffer.allocateDirect(5));
        ByteBuffer unknown = Frames.eth(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 0x88b5, 50);
        link.inject(unknown);
        ByteBuffer shortIp = Frames.eth(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 0x0800, 10);
        link.inject(shortIp);
        ByteBuffer lying = icmpEchoTo(Frames.GATEWAY, 1);
        lying.putShort(16, (short) 1400);
        lying.putShort(24, (short) 0);
        lying.putShort(24, (short) Checksum.compute(lying, 14, 20));
        link.inject(lying);
        ByteBuffer badIpSum = icmpEchoTo(Frames.GATEWAY, 2);
        badIpSum.put(22, (byte) 3);
        link.inject(badIpSum);
        ByteBuffer badIcmpSum = icmpEchoTo(Frames.GATEWAY, 3);
        badIcmpSum.put(40, (byte) 'X');
        link.inject(badIcmpSum);
        byte[] tcp = Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 1234, 80, 1, 0, Tcp.SYN, 1000, new byte[0], new byte[0]);
        tcp[16] ^= 0x55;
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS, tcp, 64, 4, 0));
        byte[] udp = Frames.udp(Frames.GUEST, Frames.HOST_ALIAS, 1234, 9, new byte[] {1, 2, 3});
        udp[9] ^= 0x55;
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, udp, 64, 5, 0));
        byte[] badHeaderLength = Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 1234, 80, 1, 0, Tcp.SYN, 1000, new byte[0], new byte[0]);
        badHeaderLength[12] = (byte) 0xf0;
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS, badHeaderLength, 64, 6, 0));
        ByteBuffer badArp = Frames.arpRequest(Frames.GUEST_MAC, Frames.GUEST, Frames.GATEWAY);
        badArp.put(18, (byte) 9);
        link.inject(badArp);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 2000; i++) {
            ByteBuffer garbage = ByteBuffer.allocateDirect(14 + random.nextInt(200));
            byte[] noise = new byte[garbage.capacity()];
            random.nextBytes(noise);
            garbage.put(0, noise);
            Ethernet.putMac(garbage, 0, Frames.GATEWAY_MAC);
            garbage.putShort(12, (short) (random.nextBoolean() ? 0x0800 : 0x0806));
            link.inject(garbage);
        }
        assertEquals(1, drops(Drop.UNKNOWN_ETHERTYPE));
        assertTrue(drops(Drop.TRUNCATED) >= 3);
        assertTrue(drops(Drop.BAD_IP_CHECKSUM) >= 1);
        assertEquals(1, drops(Drop.BAD_ICMP_CHECKSUM));
        assertEquals(1, drops(Drop.BAD_TCP_CHECKSUM));
        assertEquals(1, drops(Drop.BAD_UDP_CHECKSUM));
        assertEquals(0, drops(Drop.TRANSPORT_ERROR), "no internal errors");
        // still serving afterwards
        link.fromStack.clear();
        link.inject(icmpEchoTo(Frames.GATEWAY, 99));
        assertNotNull(guest.await(f -> f.limit() > 34 && f.get(23) == 1 && f.get(34) == 0, 3000));
    }

    @Test
    void fragmentedDatagramIsReassembledAndOverlapsAreDropped() throws Exception {
        try (DatagramSocket echo = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[65536];
                try {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    echo.receive(p);
                    echo.send(new DatagramPacket(b, p.getLength(), p.getSocketAddress()));
                } catch (Exception e) {
                    // test fails on the assertion below
                }
            });
            t.start();
            byte[] data = new byte[3000];
            new SplittableRandom(1).nextBytes(data);
            byte[] udp = Frames.udp(Frames.GUEST, Frames.HOST_ALIAS, 5555, echo.getLocalPort(), data);
            // two fragments: 1480 bytes, then the rest
            byte[] first = java.util.Arrays.copyOfRange(udp, 0, 1480);
            byte[] second = java.util.Arrays.copyOfRange(udp, 1480, udp.length);
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, second, 64, 42, 1480 / 8));
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, first, 64, 42, 0x2000));
            // the echo comes back fragmented at the MTU: collect its fragments
            int got = 0;
            while (got < udp.length) {
                ByteBuffer f = guest.await(x -> x.limit() > 34 && x.get(23) == 17 && x.getInt(26) == Frames.HOST_ALIAS, 3000);
                assertNotNull(f, "echo fragments, got " + got);
                got += (f.getShort(16) & 0xffff) - 20;
            }
            assertEquals(udp.length, got);
            t.join(2000);
        }
        // overlapping: the second fragment starts inside the first
        byte[] part = new byte[1480];
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, part, 64, 43, 0x2000));
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, part, 64, 43, 0x2000 | 800 / 8));
        assertEquals(1, drops(Drop.FRAGMENT_OVERLAP));
        // a flood of unfinished datagrams stays within the fixed table
        for (int id = 100; id < 400; id++) {
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS, part, 64, id, 0x2000));
        }
        assertTrue(drops(Drop.FRAGMENT_EVICTED) >= 280);
        assertTrue(stack.ip4.fragmentsInProgress() <= 16);
    }

    @Test
    void synFloodIsBoundedAndTheStackStillServes() throws Exception {
        // a host listener that never accepts: its backlog fills, later connects stay pending
        try (ServerSocket deaf = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 500; i++) {
                link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                        Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 20000 + i, deaf.getLocalPort(), i * 7, 0, Tcp.SYN, 1000,
                                new byte[0], new byte[0]), 64, i, 0));
            }
            settle();
            stack.loop.lock();
            try {
                assertTrue(stack.tcp.halfOpen() <= 64, "half-open " + stack.tcp.halfOpen());
                assertTrue(stack.tcp.size() <= 100, "connections " + stack.tcp.size());
            } finally {
                stack.loop.unlock();
            }
            assertTrue(drops(Drop.TCP_HALF_OPEN_LIMIT) + drops(Drop.TCP_CONNECTION_LIMIT) >= 400);
            link.fromStack.clear();
            link.inject(icmpEchoTo(Frames.GATEWAY, 5));
            assertNotNull(guest.await(f -> f.limit() > 34 && f.get(23) == 1 && f.get(34) == 0, 3000));
        }
    }

    @Test
    void refusedHostPortAnswersTheSynWithReset() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.HOST_ALIAS,
                Frames.tcp(Frames.GUEST, Frames.HOST_ALIAS, 33333, port, 100, 0, Tcp.SYN, 1000, new byte[0], new byte[0]), 64, 1, 0));
        ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & Tcp.RST) != 0, 5000);
        assertNotNull(rst, "a reset for the refused port");
        assertEquals(101, rst.getInt(42));
    }

    /** One IPv4 address in each IPv4 entry of the default list. */
    private static final String[] METADATA_V4 = {"169.254.169.254", "169.254.0.1", "100.100.100.200", "168.63.129.16"};
    /** One IPv6 address in each IPv6 entry of the default list. */
    private static final String[] METADATA_V6 = {"fd00:ec2::254", "fe80::a9fe:a9fe"};

    @Test
    void everyDefaultMetadataDestinationIsRefusedOverTcpWithAResetAndOverUdpWithProhibited() throws Exception {
        int sport = 33400;
        for (String address : METADATA_V4) {
            int metadata = Ip4.parse(address);
            int port = ++sport;
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, metadata,
                    Frames.tcp(Frames.GUEST, metadata, port, 80, 100, 0, Tcp.SYN, 1000, new byte[0], new byte[0]), 64, 1, 0));
            ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, 80) && (f.getShort(36) & 0xffff) == port
                    && (f.get(47) & Tcp.RST) != 0, 3000);
            assertNotNull(rst, "a reset from " + address);
            assertEquals(metadata, rst.getInt(26));
            assertEquals(101, rst.getInt(42), "the reset acknowledges the SYN");

            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, metadata,
                    Frames.udp(Frames.GUEST, metadata, port, 53, new byte[12]), 64, 2, 0));
            ByteBuffer prohibited = guest.await(f -> f.limit() > 34 + 8 + 20 && f.get(23) == 1 && f.get(34) == 3
                    && f.get(35) == 13 && f.getInt(34 + 8 + 16) == metadata, 3000);
            assertNotNull(prohibited, "ICMP administratively prohibited for UDP to " + address);
        }
        for (String address : METADATA_V6) {
            link.inject(ipv6(InetAddress.getByName(address), 6));
        }
        assertEquals(METADATA_V4.length * 2L + METADATA_V6.length, drops(Drop.METADATA_REFUSED));
        stack.loop.lock();
        try {
            assertEquals(0, stack.tcp.size(), "no connection was opened");
        } finally {
            stack.loop.unlock();
        }
        assertEquals(0, drops(Drop.IPV6_UNSUPPORTED), "IPv6 to metadata is counted as refused");
    }

    @Test
    void ordinaryDestinationsStillConnectBesideTheMetadataFilter() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> {
                try (java.net.Socket s = server.accept()) {
                    s.getOutputStream().write(s.getInputStream().readNBytes(5));
                } catch (Exception e) {
                    // the assertion below reports it
                }
            });
            echo.start();
            assertEquals("hello", guest.tcpEcho(Frames.HOST_ALIAS, server.getLocalPort(), "hello"));
            echo.join(3000);
        }
        link.inject(ipv6(InetAddress.getByName("2001:db8::1"), 6));
        assertEquals(0, drops(Drop.METADATA_REFUSED));
        assertEquals(1, drops(Drop.IPV6_UNSUPPORTED));
    }

    @Test
    void theLinkLocalSwitchAllowsLinkLocalOnlyAndTheListIsConfigurable() {
        NetConfig allowed = NetConfig.builder().linkLocalAllowed(true).build();
        assertEquals("100.100.100.200,fd00:ec2::254,168.63.129.16", allowed.refusedDestinations().toString());
        assertTrue(NetConfig.defaults().refusedDestinations().containsIpv4(Ip4.parse("169.254.169.254")));
        NetConfig custom = NetConfig.builder().metadataRefused(dev.slipway.networking.api.CidrList.parse("10.20.30.0/24")).build();
        assertTrue(custom.refusedDestinations().containsIpv4(Ip4.parse("10.20.30.40")));
        assertTrue(!custom.refusedDestinations().containsIpv4(Ip4.parse("169.254.169.254")));
    }

    /** An IPv6 frame from the guest's link-local address to {@code dst} with an empty payload. */
    private static ByteBuffer ipv6(InetAddress dst, int nextHeader) throws Exception {
        ByteBuffer b = Frames.eth(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 0x86dd, 40 + 20);
        b.putInt(14, 0x6000_0000);
        b.putShort(18, (short) 20);
        b.put(20, (byte) nextHeader);
        b.put(21, (byte) 64);
        b.put(22, InetAddress.getByName("fe80::7").getAddress());
        b.put(38, dst.getAddress());
        return b;
    }

    @Test
    void ttlOfOneGetsTimeExceeded() throws Exception {
        int remote = Ip4.parse("192.0.2.7");
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, remote,
                Frames.udp(Frames.GUEST, remote, 4000, 33434, new byte[8]), 1, 3, 0));
        ByteBuffer te = guest.await(f -> f.limit() > 34 && f.get(23) == 1 && f.get(34) == 11, 3000);
        assertNotNull(te);
        assertEquals(1, drops(Drop.TTL_EXPIRED));
    }

    @Test
    void udpToTheGatewayWithoutDnsIsPortUnreachable() throws Exception {
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.GATEWAY,
                Frames.udp(Frames.GUEST, Frames.GATEWAY, 4000, 53, new byte[12]), 64, 3, 0));
        ByteBuffer unreachable = guest.await(f -> f.limit() > 34 && f.get(23) == 1 && f.get(34) == 3 && f.get(35) == 3, 3000);
        assertNotNull(unreachable);
        assertNull(guest.await(f -> f.limit() > 34 && f.get(23) == 17, 200));
    }

    @Test
    void dnsServiceAnswersTheGatewaysPort53() throws Exception {
        stack.dns((query, client, tcp, reply) -> {
            ByteBuffer answer = ByteBuffer.allocateDirect(query.remaining());
            answer.put(query.duplicate()).flip();
            answer.put(2, (byte) 0x81);
            reply.send(answer);
        });
        byte[] q = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.GATEWAY,
                Frames.udp(Frames.GUEST, Frames.GATEWAY, 4000, 53, q), 64, 3, 0));
        ByteBuffer a = guest.await(f -> f.limit() > 42 && f.get(23) == 17 && (f.getShort(34) & 0xffff) == 53, 3000);
        assertNotNull(a);
        assertEquals(0x1234, a.getShort(42));
        assertEquals((byte) 0x81, a.get(44));
    }

    @Test
    void dnsOverTcpOnTheGatewayIsAnsweredAndClosedCleanly() throws Exception {
        stack.dns((query, client, tcp, reply) -> {
            ByteBuffer answer = ByteBuffer.allocateDirect(query.remaining());
            answer.put(query.duplicate()).flip();
            answer.put(2, (byte) (tcp ? 0x82 : 0x81));
            reply.send(answer);
        });
        byte[] request = {0, 12, 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        byte[] got = guest.tcpExchange(Frames.GATEWAY, 53, request, 14);
        assertEquals(0, got[0]);
        assertEquals(12, got[1]);
        assertEquals((byte) 0x82, got[4]);
        Thread.sleep(100);
        stack.loop.lock();
        try {
            assertEquals(0, stack.tcp.size(), "the DNS connection is gone after both FINs: " + stack.tcp.status());
        } finally {
            stack.loop.unlock();
        }
    }

    @Test
    void tcpToTheGatewayWithoutDnsIsReset() throws Exception {
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, Frames.GUEST, Frames.GATEWAY,
                Frames.tcp(Frames.GUEST, Frames.GATEWAY, 33335, 53, 100, 0, Tcp.SYN, 1000, new byte[0], new byte[0]), 64, 1, 0));
        assertNotNull(guest.await(f -> MiniGuest.isTcp(f, 53) && (f.get(47) & Tcp.RST) != 0, 3000));
    }
}
