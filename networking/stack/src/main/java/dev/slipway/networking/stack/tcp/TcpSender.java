package dev.slipway.networking.stack.tcp;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.Unreachable;

/** Builds the segments the gateway sends to the guests, for either family, through {@link IpOutput}. */
final class TcpSender {
    static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
    static final int OUR_WINDOW_SCALE = 7;
    private final IpOutput output;
    long segmentsToGuest;

    TcpSender(IpOutput output) {
        this.output = output;
    }

    IpOutput output() {
        return output;
    }

    /** The MSS we announce and send with for a flow of {@code family}. */
    int mss(int family) {
        return output.maxSegment(family) - 20;
    }

    /** Sends {@code n} bytes of the connection's ring from sequence number {@code seq}. */
    void data(TcpConnection c, int seq, int n, int flags) {
        ByteBuffer o = output.buffer();
        o.clear();
        int tcp = output.l4Offset(c.key.family);
        ByteBuffer ring = c.ring.buffer;
        int capacity = ring.capacity();
        int at = c.ring.offsetOf(seq);
        int first = Math.min(n, capacity - at);
        segmentsToGuest++;
        if (c.offload && first == n) {
            // the checksum is left to the guest's link, so the payload need not pass through our frame buffer
            int gso = fillHeader(c, o, tcp, flags, seq, 20, n);
            output.send(c.key, IpProtocols.TCP, 20, ring, at, n, gso);
            return;
        }
        ring.limit(capacity);
        o.put(tcp + 20, ring, at, first);
        if (first < n) {
            o.put(tcp + 20 + first, ring, 0, n - first);
        }
        int gso = fillHeader(c, o, tcp, flags, seq, 20, n);
        output.send(c.key, IpProtocols.TCP, 20 + n, gso, true);
    }

    void flags(TcpConnection c, int flags, int seq) {
        ByteBuffer o = output.buffer();
        o.clear();
        int tcp = output.l4Offset(c.key.family);
        fillHeader(c, o, tcp, flags, seq, 20, 0);
        output.send(c.key, IpProtocols.TCP, 20, 0, true);
    }

    void ack(TcpConnection c) {
        flags(c, ACK, c.sndNxt);
    }

    void syn(TcpConnection c) {
        ByteBuffer o = output.buffer();
        o.clear();
        int tcp = output.l4Offset(c.key.family);
        o.putInt(tcp + 20, 2 << 24 | 4 << 16 | mss(c.key.family));
        int hlen = 24;
        if (c.windowScaling) {
            o.putInt(tcp + 24, 1 << 24 | 3 << 16 | 3 << 8 | OUR_WINDOW_SCALE);
            hlen = 28;
        }
        fillHeader(c, o, tcp, c.active ? SYN : SYN | ACK, c.iss, hlen, 0);
        output.send(c.key, IpProtocols.TCP, hlen, 0, true);
    }

    /**
     * Fills in the TCP header at {@code tcp} in front of {@code n} payload bytes (summed from
     * {@code o} unless the guest's link finishes the checksum); returns the GSO size to send with.
     */
    private int fillHeader(TcpConnection c, ByteBuffer o, int tcp, int flags, int seq, int hlen, int n) {
        o.putShort(tcp, (short) c.key.dstPort);
        o.putShort(tcp + 2, (short) c.key.guestPort);
        o.putInt(tcp + 4, seq);
        o.putInt(tcp + 8, c.rcvNxt);
        int window = (flags & SYN) != 0 ? Math.min(65535, c.queue.free()) : advertisedWindow(c);
        o.putInt(tcp + 12, (hlen / 4) << 28 | flags << 16 | window);
        o.putInt(tcp + 16, 0);
        int segment = hlen + n;
        long pseudo = output.pseudoHeader(c.key, IpProtocols.TCP, segment);
        c.ackPending = false;
        if (c.offload && n > 0) {
            // the guest's side finishes the checksum (and segments what exceeds the MSS): leave the pseudo-header sum
            o.putShort(tcp + 16, (short) (~Checksum.fold(pseudo) & 0xffff));
            return c.mss;
        }
        o.putShort(tcp + 16, (short) Checksum.fold(Checksum.sum(o, tcp, segment, pseudo)));
        return 0;
    }

    private int advertisedWindow(TcpConnection c) {
        int free = c.queue.free();
        if (c.windowScaling) {
            return Math.min(65535, free >> OUR_WINDOW_SCALE);
        }
        return Math.min(65535, free);
    }

    /** A reset for a segment that has no connection (RFC 9293 "reset generation"); {@code k} is the segment's flow. */
    void reset(FlowKey k, int seq, int ack, int flags, int length) {
        ByteBuffer o = output.buffer();
        o.clear();
        int tcp = output.l4Offset(k.family);
        int rseq;
        int rack;
        int rflags;
        if ((flags & ACK) != 0) {
            rseq = ack;
            rack = 0;
            rflags = RST;
        } else {
            rseq = 0;
            rack = seq + length + ((flags & SYN) != 0 ? 1 : 0) + ((flags & FIN) != 0 ? 1 : 0);
            rflags = RST | ACK;
        }
        o.putShort(tcp, (short) k.dstPort);
        o.putShort(tcp + 2, (short) k.guestPort);
        o.putInt(tcp + 4, rseq);
        o.putInt(tcp + 8, rack);
        o.putInt(tcp + 12, 5 << 28 | rflags << 16);
        o.putInt(tcp + 16, 0);
        o.putShort(tcp + 16, (short) Checksum.fold(Checksum.sum(o, tcp, 20, output.pseudoHeader(k, IpProtocols.TCP, 20))));
        output.send(k, IpProtocols.TCP, 20, 0, true);
    }

    /** ICMP host unreachable for a connection the host could not reach, quoting its SYN. */
    void unreachable(TcpConnection c) {
        long quoted = (long) c.key.guestPort << 48 | (long) c.key.dstPort << 32 | c.irs & 0xffff_ffffL;
        output.unreachable(c.key, IpProtocols.TCP, quoted, Unreachable.HOST);
    }
}
