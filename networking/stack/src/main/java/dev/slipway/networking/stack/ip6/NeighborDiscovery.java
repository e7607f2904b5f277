package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;

/**
 * Neighbour discovery (RFC 4861) for the gateway: answers solicitations for the gateway's and the
 * host alias's addresses, defends them against a guest's duplicate-address detection, learns the
 * guests' addresses from solicitations and advertisements, and asks for a guest's address when the
 * transports have a packet for one not seen yet. A guest advertising one of our addresses is
 * refused and counted; answers are rate-limited so a flood of solicitations costs little.
 */
final class NeighborDiscovery {
    static final int OPTION_SOURCE_LINK_ADDRESS = 1;
    static final int OPTION_TARGET_LINK_ADDRESS = 2;
    private static final int FLAG_ROUTER = 0x8000_0000;
    private static final int FLAG_SOLICITED = 0x4000_0000;
    private static final int FLAG_OVERRIDE = 0x2000_0000;
    private final Ip6Layer layer;
    private final TokenBucket answers = new TokenBucket(500, 100);
    private final ByteBuffer request = ByteBuffer.allocateDirect(Ip6Layer.PAYLOAD + 32);
    private long lastSolicitedHi;
    private long lastSolicitedLo;
    private long lastSolicitedAt;
    long advertised;

    NeighborDiscovery(Ip6Layer layer) {
        this.layer = layer;
    }

    /** A neighbour solicitation ({@code p} has passed the ICMPv6 checksum). */
    void solicitation(ByteBuffer f, Ip6Packet p) {
        int off = p.l4Offset;
        if (!valid(f, p, 24)) {
            return;
        }
        long targetHi = f.getLong(off + 8);
        long targetLo = f.getLong(off + 16);
        long sourceMac = linkAddressOption(f, off + 24, p.end, OPTION_SOURCE_LINK_ADDRESS);
        if (Ip6.isMulticast(targetHi) || sourceMac == -2) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        boolean duplicateDetection = Ip6.isUnspecified(p.srcHi, p.srcLo);
        if (duplicateDetection && (!Ip6.isSolicitedNode(p.dstHi, p.dstLo) || sourceMac >= 0)) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        if (!layer.isOurs(targetHi, targetLo)) {
            return; // another guest's address: that guest answers
        }
        if (!answers.take(layer.clock.getAsLong())) {
            layer.output.drop(Drop.ND_RATE_LIMITED);
            return;
        }
        if (duplicateDetection) {
            // a guest wants one of our addresses: defend it to all nodes (RFC 4862 5.4.3)
            advertise(targetHi, targetLo, Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO, Ip6.multicastMac(Ip6.ALL_NODES_LO), false);
        } else {
            if (sourceMac >= 0) {
                layer.neighbors.put(p.srcHi, p.srcLo, sourceMac, layer.clock.getAsLong());
            }
            advertise(targetHi, targetLo, p.srcHi, p.srcLo, sourceMac >= 0 ? sourceMac : p.srcMac, true);
        }
    }

    /** A neighbour advertisement: learned, unless it claims one of our addresses. */
    void advertisement(ByteBuffer f, Ip6Packet p) {
        int off = p.l4Offset;
        if (!valid(f, p, 24)) {
            return;
        }
        int flags = f.getInt(off + 4);
        long targetHi = f.getLong(off + 8);
        long targetLo = f.getLong(off + 16);
        long targetMac = linkAddressOption(f, off + 24, p.end, OPTION_TARGET_LINK_ADDRESS);
        if (Ip6.isMulticast(targetHi) || targetMac == -2 || Ip6.isMulticast(p.dstHi) && (flags & FLAG_SOLICITED) != 0) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        if (layer.isOurs(targetHi, targetLo)) {
            layer.output.drop(Drop.ND_SPOOFED);
            return;
        }
        if (Ip6.isUnspecified(targetHi, targetLo)) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        long mac = targetMac >= 0 ? targetMac : p.srcMac;
        if (dev.slipway.networking.stack.Mac.isGroup(mac)) {
            layer.output.drop(Drop.ND_INVALID);
            return;
        }
        layer.neighbors.put(targetHi, targetLo, mac, layer.clock.getAsLong());
    }

    /** RFC 4861 7.1.1/7.1.2: hop limit 255 (the message cannot have crossed a router), code 0, long enough. */
    private boolean valid(ByteBuffer f, Ip6Packet p, int minLength) {
        if (p.hopLimit != 255 || f.get(p.l4Offset + 1) != 0 || p.l4Length() < minLength || p.fragmented()) {
            layer.output.drop(Drop.ND_INVALID);
            return false;
        }
        return true;
    }

    /**
     * The link-layer address option of {@code type} among the options from {@code off} to
     * {@code end}: its MAC, -1 when there is none, -2 when the options are malformed (a zero
     * length, one running past the end, or a link address of the wrong size).
     */
    static long linkAddressOption(ByteBuffer f, int off, int end, int type) {
        long found = -1;
        int options = 0;
        while (off < end) {
            if (off + 2 > end || ++options > 64) {
                return -2;
            }
            int t = f.get(off) & 0xff;
            int length = (f.get(off + 1) & 0xff) * 8;
            if (length == 0 || off + length > end) {
                return -2;
            }
            if (t == type) {
                if (length != 8) {
                    return -2;
                }
                found = (f.getShort(off + 2) & 0xffffL) << 32 | f.getInt(off + 4) & 0xffff_ffffL;
            }
            off += length;
        }
        return found;
    }

    private void advertise(long targetHi, long targetLo, long dstHi, long dstLo, long dstMac, boolean solicited) {
        ByteBuffer o = layer.control;
        o.clear();
        int icmp = Ip6Layer.PAYLOAD;
        o.putInt(icmp, Icmp6.NEIGHBOR_ADVERTISEMENT << 24);
        o.putInt(icmp + 4, FLAG_ROUTER | FLAG_OVERRIDE | (solicited ? FLAG_SOLICITED : 0));
        o.putLong(icmp + 8, targetHi);
        o.putLong(icmp + 16, targetLo);
        o.put(icmp + 24, (byte) OPTION_TARGET_LINK_ADDRESS);
        o.put(icmp + 25, (byte) 1);
        o.putShort(icmp + 26, (short) (layer.gatewayMac >>> 32));
        o.putInt(icmp + 28, (int) layer.gatewayMac);
        layer.send(o, 32, HeaderChain.ICMPV6, 255, targetHi, targetLo, dstHi, dstLo, dstMac);
        advertised++;
    }

    /** Asks the guests who has the address (at most once per address every 100 ms). */
    void solicit(long hi, long lo) {
        long now = layer.clock.getAsLong();
        if (hi != layer.prefix && !Ip6.isLinkLocal(hi)) {
            return;
        }
        if (hi == lastSolicitedHi && lo == lastSolicitedLo && now - lastSolicitedAt < 100_000_000L) {
            return;
        }
        lastSolicitedHi = hi;
        lastSolicitedLo = lo;
        lastSolicitedAt = now;
        ByteBuffer o = request;
        o.clear();
        int icmp = Ip6Layer.PAYLOAD;
        o.putInt(icmp, Icmp6.NEIGHBOR_SOLICITATION << 24);
        o.putInt(icmp + 4, 0);
        o.putLong(icmp + 8, hi);
        o.putLong(icmp + 16, lo);
        o.put(icmp + 24, (byte) OPTION_SOURCE_LINK_ADDRESS);
        o.put(icmp + 25, (byte) 1);
        o.putShort(icmp + 26, (short) (layer.gatewayMac >>> 32));
        o.putInt(icmp + 28, (int) layer.gatewayMac);
        long srcHi = Ip6.isLinkLocal(hi) ? Ip6.LINK_LOCAL_PREFIX : layer.prefix;
        long srcLo = Ip6.isLinkLocal(hi) ? layer.linkLocalId : layer.gatewayId;
        long group = Ip6.solicitedNodeLo(lo);
        layer.send(o, 32, HeaderChain.ICMPV6, 255, srcHi, srcLo, Ip6.ALL_NODES_HI, group, Ip6.multicastMac(group));
    }
}
