package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;

/** The {@link IpOutput} transports use: each flow goes to the IP layer of its family. */
public final class FamilyOutput implements IpOutput {
    private final IpOutput v4;
    private volatile IpOutput v6;

    public FamilyOutput(IpOutput v4) {
        this.v4 = v4;
    }

    /** Plugs in the IPv6 layer. */
    public void v6(IpOutput output) {
        v6 = output;
    }

    private IpOutput of(int family) {
        if (family == 4) {
            return v4;
        }
        IpOutput o = v6;
        if (o == null) {
            throw new IllegalStateException("no IPv6 layer");
        }
        return o;
    }

    @Override
    public ByteBuffer buffer() {
        return v4.buffer();
    }

    @Override
    public int l4Offset(int family) {
        return of(family).l4Offset(family);
    }

    @Override
    public int maxSegment(int family) {
        return of(family).maxSegment(family);
    }

    @Override
    public long pseudoHeader(FlowKey k, int protocol, int length) {
        return of(k.family).pseudoHeader(k, protocol, length);
    }

    @Override
    public void send(FlowKey k, int protocol, int length, int gsoSize, boolean dontFragment) {
        of(k.family).send(k, protocol, length, gsoSize, dontFragment);
    }

    @Override
    public void send(FlowKey k, int protocol, int headerLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        of(k.family).send(k, protocol, headerLength, payload, payloadOffset, payloadLength, gsoSize);
    }

    @Override
    public void unreachable(PacketContext p, ByteBuffer frame, Unreachable why) {
        of(p.family).unreachable(p, frame, why);
    }

    @Override
    public void unreachable(FlowKey k, int protocol, long quoted, Unreachable why) {
        of(k.family).unreachable(k, protocol, quoted, why);
    }
}
