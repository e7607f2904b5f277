package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.slipway.networking.stack.Drop;

/**
 * Router advertisements (RFC 4861) from the gateway's link-local address: the /64 for SLAAC
 * (RFC 4862), the link MTU, the gateway as DNS server (RDNSS, RFC 8106) with the search domains
 * (DNSSL), and the "other configuration" flag for stateless DHCPv6. Sent on a deadline (the first
 * three {@value #INITIAL_INTERVAL_SECONDS} s apart, then every configured interval) and in answer to
 * a solicitation, but never more often than every {@value #MIN_DELAY_SECONDS} s (MIN_DELAY_BETWEEN_RAS):
 * solicitations inside that window share the one advertisement scheduled at its end.
 */
final class RouterAdvertiser {
    static final int MIN_DELAY_SECONDS = 3;
    static final int INITIAL_INTERVAL_SECONDS = 16;
    private static final int INITIAL_ADVERTISEMENTS = 3;
    private static final long SECOND = 1_000_000_000L;
    private static final int FLAG_OTHER_CONFIGURATION = 0x40;
    private final Ip6Layer layer;
    private final ByteBuffer advertisement = ByteBuffer.allocateDirect(1024);
    private final int length;
    private final long intervalNanos;
    private boolean started;
    private boolean solicitedPending;
    private long lastSent;
    private long next;
    private int initialLeft = INITIAL_ADVERTISEMENTS;
    long sent;

    RouterAdvertiser(Ip6Layer layer, List<String> searchDomains) {
        this.layer = layer;
        this.intervalNanos = layer.config.routerIntervalSeconds() * SECOND;
        this.length = build(searchDomains);
    }

    int routerLifetimeSeconds() {
        return Math.min(9000, Math.max(1800, 3 * layer.config.routerIntervalSeconds()));
    }

    private int build(List<String> searchDomains) {
        ByteBuffer b = advertisement;
        int lifetime = routerLifetimeSeconds();
        int o = Ip6Layer.PAYLOAD;
        b.put(o, (byte) Icmp6.ROUTER_ADVERTISEMENT).put(o + 1, (byte) 0).putShort(o + 2, (short) 0);
        b.put(o + 4, (byte) Ip6Layer.DEFAULT_HOP_LIMIT).put(o + 5, (byte) FLAG_OTHER_CONFIGURATION);
        b.putShort(o + 6, (short) lifetime);
        b.putInt(o + 8, 0); // reachable time: unspecified
        b.putInt(o + 12, 0); // retransmission timer: unspecified
        o += 16;
        b.put(o, (byte) NeighborDiscovery.OPTION_SOURCE_LINK_ADDRESS).put(o + 1, (byte) 1);
        b.putShort(o + 2, (short) (layer.gatewayMac >>> 32)).putInt(o + 4, (int) layer.gatewayMac);
        o += 8;
        b.put(o, (byte) 5).put(o + 1, (byte) 1).putShort(o + 2, (short) 0).putInt(o + 4, layer.mtu);
        o += 8;
        b.put(o, (byte) 3).put(o + 1, (byte) 4).put(o + 2, (byte) 64).put(o + 3, (byte) 0xc0); // on-link, autonomous
        b.putInt(o + 4, 86_400).putInt(o + 8, 14_400).putInt(o + 12, 0);
        b.putLong(o + 16, layer.prefix).putLong(o + 24, 0);
        o += 32;
        b.put(o, (byte) 25).put(o + 1, (byte) 3).putShort(o + 2, (short) 0).putInt(o + 4, lifetime);
        b.putLong(o + 8, layer.prefix).putLong(o + 16, layer.gatewayId);
        o += 24;
        byte[] names = dnsNames(searchDomains);
        if (names.length > 0) {
            int optionLength = (8 + names.length + 7) / 8 * 8;
            for (int i = o; i < o + optionLength; i++) {
                b.put(i, (byte) 0);
            }
            b.put(o, (byte) 31).put(o + 1, (byte) (optionLength / 8)).putInt(o + 4, lifetime);
            b.put(o + 8, names);
            o += optionLength;
        }
        int payload = o - Ip6Layer.PAYLOAD;
        Ip6Layer.header(b, payload, HeaderChain.ICMPV6, 255, Ip6.LINK_LOCAL_PREFIX, layer.linkLocalId,
                Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO);
        Icmp6.fill(b, Ip6Layer.IP, Ip6Layer.PAYLOAD, payload, HeaderChain.ICMPV6, 2);
        layer.ethernet(b, Ip6.multicastMac(Ip6.ALL_NODES_LO));
        return o;
    }

    /** The search domains in DNS wire format, those that are no valid name left out; at most 512 bytes. */
    static byte[] dnsNames(List<String> domains) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String domain : domains) {
            String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
            byte[] wire = wire(d);
            if (wire != null && out.size() + wire.length <= 512) {
                out.writeBytes(wire);
            }
        }
        return out.toByteArray();
    }

    private static byte[] wire(String name) {
        if (name.isEmpty() || name.length() > 253) {
            return null;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String label : name.split("\\.", -1)) {
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            if (l.length == 0 || l.length > 63 || !label.matches("[A-Za-z0-9_-]+")) {
                return null;
            }
            out.write(l.length);
            out.writeBytes(l);
        }
        out.write(0);
        return out.toByteArray();
    }

    /** A router solicitation ({@code p} has passed the ICMPv6 checksum). */
    void solicitation(ByteBuffer f, Ip6Packet p) {
        if (p.hopLimit != 255 || f.get(p.l4Offset + 1) != 0 || p.l4Length() < 8 || p.fragmented()) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        long sourceMac = NeighborDiscovery.linkAddressOption(f, p.l4Offset + 8, p.end, NeighborDiscovery.OPTION_SOURCE_LINK_ADDRESS);
        boolean unspecified = Ip6.isUnspecified(p.srcHi, p.srcLo);
        if (sourceMac == -2 || unspecified && sourceMac >= 0) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        long now = layer.clock.getAsLong();
        if (!unspecified && sourceMac >= 0) {
            layer.neighbors.put(p.srcHi, p.srcLo, sourceMac, now);
        }
        if (solicitedPending) {
            layer.output.drop(Drop.ND_RATE_LIMITED); // answered by the advertisement already scheduled
            return;
        }
        if (started && now - lastSent < MIN_DELAY_SECONDS * SECOND) {
            solicitedPending = true;
            long due = lastSent + MIN_DELAY_SECONDS * SECOND;
            if (due - next < 0) {
                next = due;
                layer.output.deadline(next);
            }
            return;
        }
        send(now);
        layer.output.deadline(next);
    }

    /** Sends what is due; returns the next deadline. */
    long timers(long now) {
        if (!started || now - next >= 0) {
            send(now);
        }
        return next;
    }

    private void send(long now) {
        started = true;
        solicitedPending = false;
        lastSent = now;
        next = now + (initialLeft > 0 ? INITIAL_INTERVAL_SECONDS * SECOND : intervalNanos);
        initialLeft = Math.max(0, initialLeft - 1);
        advertisement.limit(length).position(0);
        layer.output.send(advertisement, length, 0);
        sent++;
    }
}
