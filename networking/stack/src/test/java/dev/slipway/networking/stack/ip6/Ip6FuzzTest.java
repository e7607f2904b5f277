package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.ProtocolInput;

/**
 * Mutated and random IPv6 frames: the layer never throws, never hands the transports a packet for
 * a refused or non-routable destination, and everything it sends is a well-formed IPv6 frame from
 * the gateway's MAC with a valid checksum. Bounded in count and time.
 */
class Ip6FuzzTest {
    static final int FRAMES = 300_000;
    static final long MAX_NANOS = 60_000_000_000L;

    @Test
    void mutatedFramesNeverEscape() {
        Random r = new Random(16);
        Guest6 g = new Guest6();
        java.util.ArrayList<String> escaped = new java.util.ArrayList<>();
        ProtocolInput checker = new ProtocolInput() {
            @Override
            public void input(PacketContext p, ByteBuffer frame) {
                boolean bad = p.dstHi == 0 || Ip6.isMulticast(p.dstHi) || Ip6.isLinkLocal(p.dstHi) && p.destination != PacketContext.Destination.GATEWAY
                        || g.layer.refused.containsIpv6(p.dstHi, p.dstLo) && p.destination == PacketContext.Destination.REMOTE
                        || Ip6.isMulticast(p.srcHi) || p.l4Offset + p.l4Length > frame.limit() || p.l4Length < 0 || p.family != 6;
                if (bad) {
                    escaped.add(Ip6.toString(p.srcHi, p.srcLo) + " > " + Ip6.toString(p.dstHi, p.dstLo));
                }
            }

            @Override
            public void refuse(PacketContext p, ByteBuffer frame) {
            }
        };
        g.layer.transports(checker, checker);
        List<ByteBuffer> seeds = List.of(
                echo(GUEST, GATEWAY, 1, 1, new byte[32]),
                solicitation(GUEST, GATEWAY, 255),
                solicitation(UNSPECIFIED, GATEWAY, 255),
                routerSolicitation(GUEST_LL),
                advertisement(GUEST, ALL_NODES, GUEST, GUEST_MAC, 0x2000_0000),
                Dhcp6ServerTest.request(11, Dhcp6ServerTest.clientId()),
                HeaderChainTest.echoBehind(0, HeaderChainTest.concat(HeaderChainTest.options(60), HeaderChainTest.options(58))),
                Reassembler6Test.fragment(Reassembler6Test.datagram(3000), 0, 1448, true, 3, 17),
                Reassembler6Test.fragment(Reassembler6Test.datagram(3000), 1448, 1552, false, 3, 17),
                packet(GATEWAY_MAC, GUEST, INTERNET, 64, 17, udp(GUEST, INTERNET, 1, 53, new byte[40])),
                packet(GATEWAY_MAC, GUEST, INTERNET, 64, 6, new byte[40]));
        ByteBuffer f = ByteBuffer.allocateDirect(70_000);
        long start = System.nanoTime();
        int n = 0;
        for (; n < FRAMES && System.nanoTime() - start < MAX_NANOS; n++) {
            g.now += r.nextInt(2_000_000);
            int length;
            if (r.nextInt(10) == 0) {
                length = r.nextInt(1600);
                for (int i = 0; i < length; i++) {
                    f.put(i, (byte) r.nextInt());
                }
                if (length >= 14) {
                    f.putShort(12, (short) 0x86dd);
                }
            } else {
                ByteBuffer seed = seeds.get(r.nextInt(seeds.size()));
                length = seed.limit();
                f.put(0, seed, 0, length);
                int flips = 1 + r.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    int at = 14 + r.nextInt(length - 14);
                    f.put(at, (byte) (r.nextBoolean() ? r.nextInt() : f.get(at) ^ 1 << r.nextInt(8)));
                }
                if (r.nextInt(8) == 0) {
                    length = 14 + r.nextInt(length - 14);
                }
            }
            f.limit(length).position(0);
            g.layer.input(f, length, r.nextBoolean(), false);
            f.clear();
            if (g.now - g.deadline >= 0 || n % 1000 == 0) {
                g.deadline = Long.MAX_VALUE;
                g.layer.timers(g.now);
            }
            for (ByteBuffer out : g.sent) {
                assertEquals(0x86dd, out.getShort(12) & 0xffff);
                assertEquals(GATEWAY_MAC, (out.getShort(6) & 0xffffL) << 32 | out.getInt(8) & 0xffff_ffffL);
                assertEquals(6, (out.get(14) & 0xff) >> 4);
                assertEquals(out.limit() - 54, out.getShort(18) & 0xffff);
                assertTrue(out.limit() - 14 <= 1500, "within the MTU");
                assertTrue(checksumOk(out));
            }
            g.sent.clear();
        }
        assertTrue(n >= 10_000, "only " + n + " frames in the time allowed");
        assertEquals(List.of(), escaped);
        assertTrue(g.totalDrops() > 0);
        System.out.println("fuzzed " + n + " IPv6 frames, drops " + g.totalDrops());
    }
}
