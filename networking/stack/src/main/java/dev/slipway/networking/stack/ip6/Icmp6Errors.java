package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;

/**
 * ICMPv6 error messages (RFC 4443 2.4): never about an error message, a packet sent to a multicast
 * address (packet too big and unrecognised options aside) or one without a unicast source; at most
 * {@value #PER_SECOND} a second with bursts of {@value #BURST} (a token bucket, as 2.4 (f) asks);
 * the invoking packet quoted as far as the error stays within the minimum MTU.
 */
final class Icmp6Errors {
    static final int PER_SECOND = 100;
    static final int BURST = 20;
    private static final int MAX_QUOTED = Ip6Config.MIN_MTU - 40 - 8;
    private final Ip6Layer layer;
    private final TokenBucket bucket = new TokenBucket(PER_SECOND, BURST);
    long sent;

    Icmp6Errors(Ip6Layer layer) {
        this.layer = layer;
    }

    /** Sends an error of {@code type}/{@code code} about the packet {@code p} in {@code f}; {@code parameter} is its second word. */
    void send(ByteBuffer f, Ip6Packet p, int type, int code, int parameter) {
        if (Ip6.isMulticast(p.srcHi) || Ip6.isUnspecified(p.srcHi, p.srcLo)) {
            return;
        }
        if (Ip6.isMulticast(p.dstHi) && type != Icmp6.PACKET_TOO_BIG && !(type == Icmp6.PARAMETER_PROBLEM && code == 2)) {
            return;
        }
        if (p.protocol == HeaderChain.ICMPV6 && p.l4Offset + 1 <= p.end && !p.fragmented()
                && ((f.get(p.l4Offset) & 0xff) < 128 || (f.get(p.l4Offset) & 0xff) == Icmp6.REDIRECT)) {
            return;
        }
        if (!bucket.take(layer.clock.getAsLong())) {
            layer.output.drop(Drop.ICMP6_RATE_LIMITED);
            return;
        }
        int quoted = Math.min(p.end - p.ipOffset, MAX_QUOTED);
        ByteBuffer o = layer.control;
        o.clear();
        int icmp = Ip6Layer.PAYLOAD;
        o.put(icmp, (byte) type).put(icmp + 1, (byte) code).putShort(icmp + 2, (short) 0).putInt(icmp + 4, parameter);
        o.put(icmp + 8, f, p.ipOffset, quoted);
        long srcHi;
        long srcLo;
        if (layer.isOurs(p.dstHi, p.dstLo)) {
            srcHi = p.dstHi;
            srcLo = p.dstLo;
        } else if (Ip6.isLinkLocal(p.srcHi)) {
            srcHi = Ip6.LINK_LOCAL_PREFIX;
            srcLo = layer.linkLocalId;
        } else {
            srcHi = layer.prefix;
            srcLo = layer.gatewayId;
        }
        layer.send(o, 8 + quoted, HeaderChain.ICMPV6, Ip6Layer.DEFAULT_HOP_LIMIT, srcHi, srcLo, p.srcHi, p.srcLo, p.srcMac);
        sent++;
    }
}
