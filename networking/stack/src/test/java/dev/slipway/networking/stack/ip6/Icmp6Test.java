package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

class Icmp6Test {

    @Test
    void echoToTheGatewayTheHostAliasAndTheLinkLocalGateway() {
        Guest6 g = new Guest6();
        byte[] data = "ping data".getBytes();
        g.receive(echo(GUEST, GATEWAY, 0x1234, 1, data));
        g.receive(echo(GUEST, HOST_ALIAS, 0x1234, 2, data));
        g.receive(echo(GUEST_LL, GATEWAY_LL, 0x1234, 3, data));
        assertEquals(3, g.sent.size());
        long[][] from = {GATEWAY, HOST_ALIAS, GATEWAY_LL};
        for (int i = 0; i < 3; i++) {
            ByteBuffer r = g.sent.get(i);
            assertEquals(129, r.get(54) & 0xff);
            assertEquals(0x1234, r.getShort(58) & 0xffff);
            assertEquals(i + 1, r.getShort(60));
            assertEquals(from[i][1], r.getLong(30));
            byte[] back = new byte[data.length];
            r.get(62, back);
            assertEquals(new String(data), new String(back));
            assertTrue(checksumOk(r));
        }
        assertEquals(3, g.layer.echoReplies);
    }

    @Test
    void aBadChecksumIsCounted() {
        Guest6 g = new Guest6();
        ByteBuffer e = echo(GUEST, GATEWAY, 1, 1, new byte[8]);
        e.put(60, (byte) 9);
        g.receive(e);
        assertEquals(1, g.drops(Drop.BAD_ICMP_CHECKSUM));
        assertEquals(0, g.sent.size());
    }

    @Test
    void spoofedAndMulticastSourcesAreDropped() {
        Guest6 g = new Guest6();
        g.receive(echo(GATEWAY, HOST_ALIAS, 1, 1, new byte[8]));
        g.receive(echo(ALL_NODES, GATEWAY, 1, 1, new byte[8]));
        g.receive(echo(new long[] {0, 1}, GATEWAY, 1, 1, new byte[8]));
        assertEquals(3, g.drops(Drop.IPV6_BAD_SOURCE));
        assertEquals(0, g.sent.size());
    }

    @Test
    void timeExceededForAnExpiringHopLimit() {
        Guest6 g = new Guest6().withUpper();
        g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 1, 17, udp(GUEST, INTERNET, 3000, 33434, new byte[20])));
        assertEquals(1, g.drops(Drop.TTL_EXPIRED));
        ByteBuffer err = g.last();
        assertEquals(3, err.get(54));
        assertEquals(GATEWAY[1], err.getLong(30), "from the gateway's address");
        assertEquals(GUEST[1], err.getLong(46));
        assertEquals(0x6000_0000, err.getInt(62), "quotes the invoking packet");
        assertTrue(checksumOk(err));
        assertEquals(0, g.upper.size());
    }

    @Test
    void metadataAndNonRoutableDestinationsAreRefused() {
        Guest6 g = new Guest6().withUpper();
        long[] metadata = Ip6.parse("fd00:ec2::254");
        g.receive(packet(GATEWAY_MAC, GUEST, metadata, 64, 17, udp(GUEST, metadata, 3000, 80, new byte[4])));
        assertEquals(1, g.drops(Drop.METADATA_REFUSED));
        assertEquals(1, g.last().get(54));
        assertEquals(1, g.last().get(55), "administratively prohibited");
        long[] mapped = {0, 0x0000_ffff_a9fe_a9feL}; // ::ffff:169.254.169.254
        long[] loopback = {0, 1};
        g.receive(packet(GATEWAY_MAC, GUEST, mapped, 64, 17, udp(GUEST, mapped, 3000, 80, new byte[4])));
        g.receive(packet(GATEWAY_MAC, GUEST, loopback, 64, 17, udp(GUEST, loopback, 3000, 80, new byte[4])));
        long[] otherGuest = {PREFIX, 0x42};
        g.receive(packet(GATEWAY_MAC, GUEST, otherGuest, 64, 17, udp(GUEST, otherGuest, 3000, 80, new byte[4])));
        assertEquals(2, g.drops(Drop.NOT_FOR_US));
        assertEquals(2, g.drops(Drop.METADATA_REFUSED), "an IPv4-mapped metadata address too");
        g.receive(packet(GATEWAY_MAC, GUEST_LL, INTERNET, 64, 17, udp(GUEST_LL, INTERNET, 3000, 80, new byte[4])));
        assertEquals(1, g.drops(Drop.IPV6_BAD_SOURCE), "a link-local source cannot leave the link");
        assertEquals(0, g.upper.size());
        g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 64, 17, udp(GUEST, INTERNET, 3000, 80, new byte[4])));
        assertEquals(1, g.upper.size(), "an ordinary destination goes to the transports");
        g.receive(packet(GATEWAY_MAC, GUEST, metadata, 64, 6, new byte[20]));
        assertEquals("tcp refused", g.upper.get(1), "TCP to a refused destination is answered with a reset");
    }

    @Test
    void packetTooBigAboveTheMtu() {
        Guest6 g = new Guest6(1280).withUpper();
        g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 64, 17, udp(GUEST, INTERNET, 3000, 80, new byte[1300])));
        assertEquals(1, g.drops(Drop.OVERSIZED));
        ByteBuffer err = g.last();
        assertEquals(2, err.get(54));
        assertEquals(1280, err.getInt(58));
        assertTrue(err.limit() - 14 <= 1280, "the error fits the minimum MTU");
        assertTrue(checksumOk(err));
    }

    @Test
    void noErrorAboutAnErrorAndErrorsAreRateLimited() {
        Guest6 g = new Guest6();
        byte[] unreachable = icmp(GUEST, INTERNET, 1, 4, new byte[44]);
        g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 1, 58, unreachable));
        assertEquals(0, g.sent.size(), "an error never answers an error");
        for (int i = 0; i < 1000; i++) {
            g.now += 100_000; // 1000 in 100 ms
            g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 1, 17, udp(GUEST, INTERNET, 3000, 80, new byte[4])));
        }
        assertTrue(g.sent.size() <= Icmp6Errors.BURST + 10 + 1, "errors: " + g.sent.size());
        assertEquals(1000 - g.sent.size(), g.drops(Drop.ICMP6_RATE_LIMITED));
    }

    @Test
    void withoutTransportsTheGuestHearsUnreachable() {
        Guest6 g = new Guest6();
        g.receive(packet(GATEWAY_MAC, GUEST, HOST_ALIAS, 64, 6, new byte[20]));
        assertEquals(1, g.last().get(54));
        assertEquals(4, g.last().get(55), "port unreachable");
    }

    @Test
    void checksumsMatchAnIndependentComputation() {
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 200; i++) {
            byte[] m = new byte[r.nextInt(1500) + 4];
            r.nextBytes(m);
            long[] s = {r.nextLong(), r.nextLong()};
            long[] d = {r.nextLong(), r.nextLong()};
            ByteBuffer f = packet(GATEWAY_MAC, s, d, 64, 58, m);
            Icmp6.fill(f, 14, 54, m.length, 58, 2);
            assertTrue(checksumOk(f));
        }
    }
}
