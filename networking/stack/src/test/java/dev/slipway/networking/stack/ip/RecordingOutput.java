package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An {@link IpOutput} that keeps what a transport sends (IPv4 flows), for tests of the transports alone. */
public final class RecordingOutput implements IpOutput {
    /** A segment as the transport sent it. */
    public record Sent(FlowKey flow, int protocol, byte[] segment, int gsoSize) {}

    /** An ICMP error the transport asked for. */
    public record Error(FlowKey flow, Unreachable why) {}

    public static final int L4 = 34;
    private final ByteBuffer out = ByteBuffer.allocateDirect(70_000);
    public final BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
    public final BlockingQueue<Error> errors = new LinkedBlockingQueue<>();
    public int mtu = 1500;

    public Sent next(long millis) throws InterruptedException {
        return sent.poll(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public ByteBuffer buffer() {
        return out;
    }

    @Override
    public int l4Offset(int family) {
        return L4;
    }

    @Override
    public int maxSegment(int family) {
        return mtu - 20;
    }

    @Override
    public long pseudoHeader(FlowKey k, int protocol, int length) {
        return Checksum.pseudoHeader(k.dstIp4(), k.guestIp4(), protocol, length);
    }

    @Override
    public void send(FlowKey k, int protocol, int length, int gsoSize, boolean dontFragment) {
        byte[] b = new byte[length];
        out.get(L4, b);
        sent.add(new Sent(k.copy(), protocol, b, gsoSize));
    }

    @Override
    public void send(FlowKey k, int protocol, int headerLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        byte[] b = new byte[headerLength + payloadLength];
        out.get(L4, b, 0, headerLength);
        payload.limit(payload.capacity());
        payload.get(payloadOffset, b, headerLength, payloadLength);
        sent.add(new Sent(k.copy(), protocol, b, gsoSize));
    }

    @Override
    public void unreachable(PacketContext p, ByteBuffer frame, Unreachable why) {
        errors.add(new Error(new FlowKey().set(p, frame.getShort(p.l4Offset) & 0xffff, frame.getShort(p.l4Offset + 2) & 0xffff), why));
    }

    @Override
    public void unreachable(FlowKey k, int protocol, long quoted, Unreachable why) {
        errors.add(new Error(k.copy(), why));
    }
}
