package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.Unreachable;

/**
 * The transports' {@link IpOutput} for IPv6 flows: adds the IPv6 and Ethernet headers to what TCP
 * and UDP build in the shared buffer, fragments a datagram above the MTU (the gateway is its
 * source, so it may), and turns the transports' unreachable reports into ICMPv6 errors.
 */
final class Ip6Sender implements IpOutput {
    private final Ip6Layer layer;
    private final ByteBuffer out;
    private final ByteBuffer fragments;
    private final ByteBuffer quote = ByteBuffer.allocateDirect(Ip6Layer.PAYLOAD + 16);
    private final Ip6Packet described = new Ip6Packet();
    private int fragmentId;

    Ip6Sender(Ip6Layer layer, ByteBuffer out) {
        this.layer = layer;
        this.out = out;
        this.fragments = ByteBuffer.allocateDirect(Ip6Layer.PAYLOAD + layer.mtu + 8);
    }

    @Override
    public ByteBuffer buffer() {
        return out;
    }

    @Override
    public int l4Offset(int family) {
        return Ip6Layer.PAYLOAD;
    }

    @Override
    public int maxSegment(int family) {
        return layer.mtu - 40;
    }

    @Override
    public long pseudoHeader(FlowKey k, int protocol, int length) {
        return Icmp6.pseudoHeader(k.dstHi, k.dstLo, k.guestHi, k.guestLo, length, protocol);
    }

    @Override
    public boolean send(FlowKey k, int protocol, int length, int gsoSize, boolean dontFragment) {
        if (40 + length > layer.mtu && gsoSize == 0) {
            fragment(k, protocol, length);
            return true;
        }
        Ip6Layer.header(out, length, protocol, Ip6Layer.DEFAULT_HOP_LIMIT, k.dstHi, k.dstLo, k.guestHi, k.guestLo);
        return !layer.addressToGuest(out) || layer.output.send(out, Ip6Layer.PAYLOAD + length, gsoSize);
    }

    /** Sends the segment in {@link #out} as fragments (RFC 8200 4.5) that fit the MTU. */
    private void fragment(FlowKey k, int protocol, int length) {
        int chunk = (layer.mtu - 48) & ~7;
        int id = ++fragmentId;
        ByteBuffer a = fragments;
        for (int at = 0; at < length; at += chunk) {
            int len = Math.min(chunk, length - at);
            boolean more = at + len < length;
            a.clear();
            Ip6Layer.header(a, 8 + len, HeaderChain.FRAGMENT, Ip6Layer.DEFAULT_HOP_LIMIT, k.dstHi, k.dstLo, k.guestHi, k.guestLo);
            a.putInt(Ip6Layer.PAYLOAD, protocol << 24 | at | (more ? 1 : 0));
            a.putInt(Ip6Layer.PAYLOAD + 4, id);
            a.put(Ip6Layer.PAYLOAD + 8, out, Ip6Layer.PAYLOAD + at, len);
            if (!layer.addressToGuest(a)) {
                return;
            }
            layer.output.send(a, Ip6Layer.PAYLOAD + 8 + len, 0);
        }
    }

    @Override
    public boolean send(FlowKey k, int protocol, int headerLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        int headersEnd = Ip6Layer.PAYLOAD + headerLength;
        Ip6Layer.header(out, headerLength + payloadLength, protocol, Ip6Layer.DEFAULT_HOP_LIMIT, k.dstHi, k.dstLo, k.guestHi, k.guestLo);
        if (!layer.addressToGuest(out)) {
            return true; // dropped for good: no guest has the address
        }
        long mac = (out.getShort(0) & 0xffffL) << 32 | out.getInt(2) & 0xffff_ffffL;
        if (!layer.output.gathers(mac)) {
            payload.limit(payload.capacity());
            out.put(headersEnd, payload, payloadOffset, payloadLength);
            return layer.output.send(out, headersEnd + payloadLength, gsoSize);
        }
        return layer.output.send(out, headersEnd, payload, payloadOffset, payloadLength, gsoSize);
    }

    @Override
    public void unreachable(PacketContext p, ByteBuffer frame, Unreachable why) {
        Ip6Packet d = described;
        d.clear();
        d.ipOffset = p.ipOffset;
        d.end = p.l4Offset + p.l4Length;
        d.srcHi = p.srcHi;
        d.srcLo = p.srcLo;
        d.dstHi = p.dstHi;
        d.dstLo = p.dstLo;
        d.protocol = p.protocol;
        d.l4Offset = p.l4Offset;
        d.srcMac = (frame.getShort(6) & 0xffffL) << 32 | frame.getInt(8) & 0xffff_ffffL;
        error(frame, d, why);
    }

    @Override
    public void unreachable(FlowKey k, int protocol, long quoted, Unreachable why) {
        long mac = layer.neighbor(k.guestHi, k.guestLo);
        if (mac < 0) {
            layer.output.drop(Drop.NO_GUEST_MAC);
            return;
        }
        ByteBuffer q = quote;
        q.clear();
        Ip6Layer.header(q, 8, protocol, Ip6Layer.DEFAULT_HOP_LIMIT, k.guestHi, k.guestLo, k.dstHi, k.dstLo);
        q.putLong(Ip6Layer.PAYLOAD, quoted);
        Ip6Packet d = described;
        d.clear();
        d.ipOffset = Ip6Layer.IP;
        d.end = Ip6Layer.PAYLOAD + 8;
        d.srcHi = k.guestHi;
        d.srcLo = k.guestLo;
        d.dstHi = k.dstHi;
        d.dstLo = k.dstLo;
        d.protocol = protocol;
        d.l4Offset = Ip6Layer.PAYLOAD;
        d.srcMac = mac;
        error(q, d, why);
    }

    private void error(ByteBuffer frame, Ip6Packet d, Unreachable why) {
        switch (why) {
            case HOST -> layer.errors.send(frame, d, Icmp6.DESTINATION_UNREACHABLE, Icmp6.ADDRESS_UNREACHABLE, 0);
            case PORT -> layer.errors.send(frame, d, Icmp6.DESTINATION_UNREACHABLE, Icmp6.PORT_UNREACHABLE, 0);
            case ADMIN_PROHIBITED -> layer.errors.send(frame, d, Icmp6.DESTINATION_UNREACHABLE, Icmp6.ADMINISTRATIVELY_PROHIBITED, 0);
            case PROTOCOL -> layer.errors.send(frame, d, Icmp6.PARAMETER_PROBLEM, 1, 6);
        }
    }
}
