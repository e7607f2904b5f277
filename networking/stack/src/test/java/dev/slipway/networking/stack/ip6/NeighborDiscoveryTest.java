package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

class NeighborDiscoveryTest {

    @Test
    void answersASolicitationForTheGatewayWithItsMacAndLearnsTheGuest() {
        Guest6 g = new Guest6();
        g.receive(solicitation(GUEST, GATEWAY, 255));
        assertEquals(1, g.sent.size());
        ByteBuffer na = g.last();
        assertEquals(GUEST_MAC, (na.getShort(0) & 0xffffL) << 32 | na.getInt(2) & 0xffff_ffffL);
        assertEquals(136, na.get(54) & 0xff);
        assertEquals(255, na.get(21) & 0xff, "hop limit");
        assertEquals(0xe000_0000, na.getInt(58), "router, solicited, override");
        assertEquals(GATEWAY[1], na.getLong(70));
        assertEquals(2, na.get(78), "target link-address option");
        assertEquals(GATEWAY_MAC, (na.getShort(80) & 0xffffL) << 32 | na.getInt(82) & 0xffff_ffffL);
        assertEquals(GUEST[1], na.getLong(46), "to the soliciting guest");
        assertTrue(checksumOk(na));
        assertEquals(GUEST_MAC, g.layer.neighbor(GUEST[0], GUEST[1]));
        assertEquals(0, g.totalDrops());
    }

    @Test
    void answersForTheHostAliasAndTheLinkLocalGateway() {
        Guest6 g = new Guest6();
        g.receive(solicitation(GUEST, HOST_ALIAS, 255));
        g.receive(solicitation(GUEST_LL, GATEWAY_LL, 255));
        assertEquals(2, g.sent.size());
        assertEquals(HOST_ALIAS[1], g.sent.get(0).getLong(70));
        assertEquals(GATEWAY_LL[1], g.sent.get(1).getLong(70));
        assertEquals(GATEWAY_LL[1], g.sent.get(1).getLong(30), "from the target address");
    }

    @Test
    void leavesOtherGuestsAddressesToThem() {
        Guest6 g = new Guest6();
        g.receive(solicitation(GUEST, new long[] {PREFIX, 0x99}, 255));
        assertEquals(0, g.sent.size());
        assertEquals(0, g.totalDrops());
    }

    @Test
    void refusesSolicitationsThatCrossedARouterOrCarryBadOptions() {
        Guest6 g = new Guest6();
        g.receive(solicitation(GUEST, GATEWAY, 64));
        ByteBuffer zeroLengthOption = solicitation(GUEST, GATEWAY, 255);
        zeroLengthOption.put(54 + 25, (byte) 0);
        fixIcmpChecksum(zeroLengthOption);
        g.receive(zeroLengthOption);
        ByteBuffer multicastTarget = solicitation(GUEST, ALL_NODES, 255);
        g.receive(multicastTarget);
        assertEquals(0, g.sent.size());
        assertEquals(3, g.drops(Drop.ND_INVALID));
    }

    @Test
    void defendsTheGatewayAddressAgainstDuplicateDetection() {
        Guest6 g = new Guest6();
        g.receive(solicitation(UNSPECIFIED, GATEWAY, 255));
        assertEquals(1, g.sent.size());
        ByteBuffer na = g.last();
        assertEquals(ALL_NODES[0], na.getLong(38));
        assertEquals(ALL_NODES[1], na.getLong(46));
        assertEquals(0xa000_0000, na.getInt(58), "router and override, not solicited");
        // a guest's own duplicate detection is no business of the gateway
        g.receive(solicitation(UNSPECIFIED, GUEST, 255));
        assertEquals(1, g.sent.size());
    }

    @Test
    void refusesAGuestClaimingTheGatewayOrHostAlias() {
        Guest6 g = new Guest6();
        long evil = 0x02_66_66_66_66_66L;
        g.receive(advertisement(GUEST, ALL_NODES, GATEWAY, evil, 0x2000_0000));
        g.receive(advertisement(GUEST, ALL_NODES, HOST_ALIAS, evil, 0x2000_0000));
        g.receive(advertisement(GUEST_LL, ALL_NODES, GATEWAY_LL, evil, 0x2000_0000));
        assertEquals(3, g.drops(Drop.ND_SPOOFED));
        assertEquals(-1, g.layer.neighbor(GATEWAY[0], GATEWAY[1]));
    }

    @Test
    void learnsGuestsFromTheirAdvertisements() {
        Guest6 g = new Guest6();
        long[] other = {PREFIX, 0x1234};
        g.receive(advertisement(GUEST, ALL_NODES, other, 0x02_00_00_00_00_09L, 0x2000_0000));
        assertEquals(0x02_00_00_00_00_09L, g.layer.neighbor(other[0], other[1]));
        // solicited flag on a multicast advertisement is invalid (RFC 4861 7.1.2)
        g.receive(advertisement(GUEST, ALL_NODES, new long[] {PREFIX, 0x55}, 0x02_00_00_00_00_09L, 0x4000_0000));
        assertEquals(1, g.drops(Drop.ND_INVALID));
    }

    @Test
    void aSolicitationFloodIsAnsweredAtABoundedRate() {
        Guest6 g = new Guest6();
        for (int i = 0; i < 10_000; i++) {
            g.now += 10_000; // 10,000 in 100 ms
            g.receive(solicitation(GUEST, GATEWAY, 255));
        }
        assertTrue(g.sent.size() <= 100 + 50 + 1, "answers: " + g.sent.size());
        assertEquals(10_000 - g.sent.size(), g.drops(Drop.ND_RATE_LIMITED));
    }

    @Test
    void aFloodOfMadeUpAddressesKeepsTheNeighbourTableBounded() {
        Guest6 g = new Guest6();
        for (int i = 0; i < 50_000; i++) {
            g.now += 1000;
            g.receive(advertisement(GUEST, ALL_NODES, new long[] {PREFIX, 0x1_0000L + i}, 0x02_00_00_00_00_09L, 0x2000_0000));
        }
        assertTrue(g.layer.neighbors.size() <= 2048, "entries " + g.layer.neighbors.size());
        long[] last = {PREFIX, 0x1_0000L + 49_999};
        assertEquals(0x02_00_00_00_00_09L, g.layer.neighbor(last[0], last[1]), "the newest is kept");
    }

    @Test
    void asksForAGuestAddressThatIsNotKnownYet() {
        Guest6 g = new Guest6();
        ByteBuffer b = ByteBuffer.allocate(100);
        Ip6Layer.header(b, 0, 59, 64, GATEWAY[0], GATEWAY[1], PREFIX, 0x77);
        assertEquals(false, g.layer.addressToGuest(b));
        assertEquals(1, g.sent.size());
        ByteBuffer ns = g.last();
        assertEquals(135, ns.get(54) & 0xff);
        assertEquals(Ip6.solicitedNodeLo(0x77), ns.getLong(46));
        assertTrue(checksumOk(ns));
        g.layer.addressToGuest(b);
        assertEquals(1, g.sent.size(), "at most one solicitation per address every 100 ms");
        assertEquals(2, g.drops(Drop.NO_GUEST_MAC));
    }

    static void fixIcmpChecksum(ByteBuffer f) {
        long[] src = {f.getLong(22), f.getLong(30)};
        long[] dst = {f.getLong(38), f.getLong(46)};
        f.putShort(56, (short) 0);
        byte[] m = new byte[f.getShort(18) & 0xffff];
        f.get(54, m);
        f.putShort(56, (short) checksum(src, dst, 58, m));
    }
}
