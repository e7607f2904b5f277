package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

class RouterAdvertiserTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void aSolicitationGetsThePrefixTheMtuAndTheGatewayAsDnsServer() {
        Guest6 g = new Guest6(1400);
        g.receive(routerSolicitation(GUEST_LL));
        assertEquals(1, g.sent.size());
        ByteBuffer ra = g.last();
        assertEquals(Ip6.multicastMac(1), (ra.getShort(0) & 0xffffL) << 32 | ra.getInt(2) & 0xffff_ffffL);
        assertEquals(134, ra.get(54) & 0xff);
        assertEquals(255, ra.get(21) & 0xff);
        assertEquals(GATEWAY_LL[0], ra.getLong(22));
        assertEquals(GATEWAY_LL[1], ra.getLong(30), "from the gateway's link-local address");
        assertEquals(0x40, ra.get(59) & 0xff, "other configuration (stateless DHCPv6)");
        assertTrue((ra.getShort(60) & 0xffff) >= 1800, "router lifetime");
        assertTrue(checksumOk(ra));
        int o = 70;
        boolean prefix = false;
        boolean mtu = false;
        boolean rdnss = false;
        boolean dnssl = false;
        while (o < ra.limit()) {
            int type = ra.get(o) & 0xff;
            int len = (ra.get(o + 1) & 0xff) * 8;
            assertTrue(len > 0);
            switch (type) {
                case 3 -> {
                    prefix = true;
                    assertEquals(64, ra.get(o + 2));
                    assertEquals(0xc0, ra.get(o + 3) & 0xff);
                    assertEquals(PREFIX, ra.getLong(o + 16));
                    assertEquals(0, ra.getLong(o + 24));
                }
                case 5 -> {
                    mtu = true;
                    assertEquals(1400, ra.getInt(o + 4));
                }
                case 25 -> {
                    rdnss = true;
                    assertEquals(GATEWAY[0], ra.getLong(o + 8));
                    assertEquals(GATEWAY[1], ra.getLong(o + 16));
                }
                case 31 -> dnssl = true;
                default -> { }
            }
            o += len;
        }
        assertTrue(prefix && mtu && rdnss && dnssl);
        assertEquals(GUEST_MAC, g.layer.neighbor(GUEST_LL[0], GUEST_LL[1]), "learned from the source link-address option");
    }

    @Test
    void advertisesOnADeadlineFasterAtFirst() {
        Guest6 g = new Guest6();
        long start = g.now;
        long next = g.layer.timers(g.now);
        assertEquals(1, g.sent.size());
        assertEquals(start + RouterAdvertiser.INITIAL_INTERVAL_SECONDS * SECOND, next);
        g.now = next - 1;
        assertEquals(next, g.layer.timers(g.now));
        assertEquals(1, g.sent.size(), "nothing before the deadline");
        for (int i = 0; i < 5; i++) {
            g.now = next;
            next = g.layer.timers(g.now);
        }
        assertEquals(6, g.sent.size());
        assertEquals(CONFIG.routerIntervalSeconds() * SECOND, next - g.now, "after the initial ones, the configured interval");
    }

    @Test
    void solicitationsInsideTheMinimumDelayShareOneAdvertisement() {
        Guest6 g = new Guest6();
        g.receive(routerSolicitation(GUEST_LL));
        assertEquals(1, g.sent.size());
        g.now += SECOND;
        g.receive(routerSolicitation(UNSPECIFIED));
        assertEquals(1, g.sent.size(), "held back");
        assertEquals(g.now + 2 * SECOND, g.deadline, "scheduled at the end of the minimum delay");
        for (int i = 0; i < 10_000; i++) {
            g.receive(routerSolicitation(GUEST_LL));
        }
        assertEquals(10_000, g.drops(Drop.ND_RATE_LIMITED));
        g.now = g.deadline;
        g.layer.timers(g.now);
        assertEquals(2, g.sent.size());
    }

    @Test
    void aFloodOfSolicitationsOverTimeSendsAtMostOneAdvertisementEveryThreeSeconds() {
        Guest6 g = new Guest6();
        long start = g.now;
        for (int i = 0; i < 100_000; i++) {
            g.now += 300_000; // 30 s in all
            g.receive(routerSolicitation(GUEST_LL));
            if (g.now - g.deadline >= 0) {
                g.layer.timers(g.now);
            }
        }
        long seconds = (g.now - start) / SECOND;
        assertTrue(g.sent.size() <= seconds / RouterAdvertiser.MIN_DELAY_SECONDS + 1, "advertisements: " + g.sent.size());
    }

    @Test
    void fakeRouterAdvertisementsAndRedirectsFromGuestsAreDropped() {
        Guest6 g = new Guest6();
        ByteBuffer body = ByteBuffer.allocate(44);
        body.put((byte) 64).put((byte) 0).putShort((short) 1800).putInt(0).putInt(0);
        body.put((byte) 3).put((byte) 4).put((byte) 64).put((byte) 0xc0).putInt(86400).putInt(14400).putInt(0)
                .putLong(0x2001_0db8_0000_0000L).putLong(0);
        g.receive(icmpFrame(GUEST_LL, ALL_NODES, 255, 134, 0, body.array()));
        g.receive(icmpFrame(GUEST_LL, GATEWAY_LL, 255, 137, 0, new byte[36]));
        assertEquals(2, g.drops(Drop.ROUTER_ADVERTISEMENT_FROM_GUEST));
        assertEquals(0, g.sent.size());
    }

    @Test
    void solicitationsThatCrossedARouterOrCarryALinkAddressWithoutASourceAreInvalid() {
        Guest6 g = new Guest6();
        ByteBuffer hop = routerSolicitation(GUEST_LL);
        hop.put(21, (byte) 64);
        g.receive(hop);
        ByteBuffer body = ByteBuffer.allocate(12);
        body.putInt(0).put((byte) 1).put((byte) 1).putShort((short) 2).putInt(7);
        g.receive(icmpFrame(UNSPECIFIED, ALL_ROUTERS, 255, 133, 0, body.array()));
        assertEquals(2, g.drops(Drop.ND_INVALID));
        assertEquals(0, g.sent.size());
    }
}
