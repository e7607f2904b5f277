package dev.slipway.networking.stack.tcp;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.Unreachable;

/**
 * Builds the segments the gateway sends to the guests, for either family, through {@link IpOutput}.
 * When the guest's link is full, what cannot be recovered otherwise waits here or with its
 * connection: resets (their connection is gone, nothing would send them again), data and FINs (not
 * counted as sent, so no retransmission backoff), acknowledgements (still pending).
 */
final class TcpSender {
    /** Resets waiting for room on the guest's link; beyond this many the oldest wait is given up. */
    private static final int MAX_PENDING_RESETS = 1024;
    private record PendingReset(FlowKey flow, int seq, int ack, int flags) {}

    static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
    static final int OUR_WINDOW_SCALE = 7;
    /** SACK blocks in one acknowledgement: four fit in the 40 bytes of options without timestamps. */
    static final int MAX_SACK_BLOCKS = 4;
    private final IpOutput output;
    private final Tcp tcp;
    private final ArrayDeque<PendingReset> pendingResets = new ArrayDeque<>();
    long segmentsToGuest;
    long resetsDelayed;

    TcpSender(IpOutput output, Tcp tcp) {
        this.output = output;
        this.tcp = tcp;
    }

    IpOutput output() {
        return output;
    }

    /** The MSS we announce and send with for a flow of {@code family}. */
    int mss(int family) {
        return output.maxSegment(family) - 20;
    }

    /** Sends {@code n} bytes of the connection's ring from sequence number {@code seq}; false when the link was full. */
    boolean data(TcpConnection c, int seq, int n, int flags) {
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
            return output.send(c.key, IpProtocols.TCP, 20, ring, at, n, gso);
        }
        ring.limit(capacity);
        o.put(tcp + 20, ring, at, first);
        if (first < n) {
            o.put(tcp + 20 + first, ring, 0, n - first);
        }
        int gso = fillHeader(c, o, tcp, flags, seq, 20, n);
        return output.send(c.key, IpProtocols.TCP, 20 + n, gso, true);
    }

    /** A segment without data; when the link is full, the acknowledgement it carries stays pending. */
    boolean flags(TcpConnection c, int flags, int seq) {
        ByteBuffer o = output.buffer();
        o.clear();
        int l4 = output.l4Offset(c.key.family);
        int hlen = 20;
        if (c.sackPermitted) {
            hlen += c.queue.sackOption(o, l4 + 20, c.rcvNxt, c.dupStart, c.dupEnd, MAX_SACK_BLOCKS);
        }
        fillHeader(c, o, l4, flags, seq, hlen, 0);
        if (output.send(c.key, IpProtocols.TCP, hlen, 0, true)) {
            c.dupEnd = c.dupStart;
            return true;
        }
        c.ackPending = true;
        tcp.linkFull(c);
        return false;
    }

    boolean ack(TcpConnection c) {
        return flags(c, ACK, c.sndNxt);
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
        if (c.sackPermitted) {
            o.putInt(tcp + hlen, 1 << 24 | 1 << 16 | 4 << 8 | 2);
            hlen += 4;
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
        rst(k, rseq, rack, rflags);
    }

    /** Sends a reset on flow {@code k}; one the full link did not take waits for room. */
    void rst(FlowKey k, int seq, int ack, int flags) {
        if (!sendRst(k, seq, ack, flags)) {
            if (pendingResets.size() == MAX_PENDING_RESETS) {
                pendingResets.pollFirst();
            }
            pendingResets.add(new PendingReset(k.copy(), seq, ack, flags));
            resetsDelayed++;
            tcp.armResume();
        }
    }

    private boolean sendRst(FlowKey k, int seq, int ack, int flags) {
        ByteBuffer o = output.buffer();
        o.clear();
        int l4 = output.l4Offset(k.family);
        o.putShort(l4, (short) k.dstPort);
        o.putShort(l4 + 2, (short) k.guestPort);
        o.putInt(l4 + 4, seq);
        o.putInt(l4 + 8, ack);
        o.putInt(l4 + 12, 5 << 28 | flags << 16);
        o.putInt(l4 + 16, 0);
        o.putShort(l4 + 16, (short) Checksum.fold(Checksum.sum(o, l4, 20, output.pseudoHeader(k, IpProtocols.TCP, 20))));
        return output.send(k, IpProtocols.TCP, 20, 0, true);
    }

    /** Sends the resets that waited for the link; false when it is full again. */
    boolean resendResets() {
        for (PendingReset r; (r = pendingResets.peekFirst()) != null; ) {
            if (!sendRst(r.flow(), r.seq(), r.ack(), r.flags())) {
                return false;
            }
            pendingResets.pollFirst();
        }
        return true;
    }

    int pendingResets() {
        return pendingResets.size();
    }

    /** ICMP host unreachable for a connection the host could not reach, quoting its SYN. */
    void unreachable(TcpConnection c) {
        long quoted = (long) c.key.guestPort << 48 | (long) c.key.dstPort << 32 | c.irs & 0xffff_ffffL;
        output.unreachable(c.key, IpProtocols.TCP, quoted, Unreachable.HOST);
    }
}
