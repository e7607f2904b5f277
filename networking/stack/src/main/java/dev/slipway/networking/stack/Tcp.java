package dev.slipway.networking.stack;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.api.OutboundRouter;

/**
 * TCP: the guest's peer for every connection it opens. A guest SYN makes a non-blocking host
 * connect(); the handshake completes towards the guest only once the host connection does. Data
 * flows through two bounded per-connection buffers (guest to host, host to guest), so a slow side
 * stops the other through the TCP windows rather than by buffering.
 *
 * <p>Hand-written: no Java library terminates TCP from raw segments on a caller-owned frame path.
 */
final class Tcp {
    private static final Logger LOG = LoggerFactory.getLogger(Tcp.class);
    static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
    private static final int OUR_WINDOW_SCALE = 7;
    private static final int MIN_RTO_MILLIS = 200;
    private static final int MAX_RTO_MILLIS = 4000;
    private static final int MAX_RETRANSMITS = 12;
    /** The largest TCP payload in one IPv4 packet with 20-byte IP and TCP headers. */
    private static final int MAX_GSO_PAYLOAD = 65535 - 40;
    private static final int SMALL_BUFFER = 16 * 1024;

    private final NetStack stack;
    private final NetConfig config;
    private final HashMap<FlowKey, Connection> table = new HashMap<>();
    private final FlowKey probe = new FlowKey();
    private final ArrayList<Connection> dirty = new ArrayList<>();
    private final ArrayList<Connection> scratch = new ArrayList<>();
    /** Connections with a retransmission or connect deadline armed (see {@link #watchTimers}). */
    private Connection[] watched = new Connection[256];
    private int watchedCount;
    /** Buffers start small (most connections carry little) and grow to the window size when a side falls behind. */
    private final BufferPool small;
    private final BufferPool large;
    private final int bufferLimit;
    private final SplittableRandom random = new SplittableRandom();
    private int halfOpen;
    long opened, refused, timedOut, resetByGuest, resetByHost, closedNormally, idleClosed, retransmits;
    long bytesToHost, bytesToGuest, segmentsFromGuest, segmentsToGuest;
    long activeOpened, refusedByGuest;
    private int nextActivePort = 49152 + new SplittableRandom().nextInt(16384);
    private final int isnSecret = new SplittableRandom().nextInt();

    final class Connection {
        final FlowKey key;
        final SocketChannel channel;
        SelectionKey selectionKey;
        int interest;
        boolean connecting;
        boolean closed;
        long connectDeadline;
        long lastActive;
        // guest to host
        /** The guest's initial sequence number; for a connection we open, known once its SYN-ACK arrives. */
        int irs;
        int rcvNxt;
        /** Opened by us towards the guest (a published port); the host side is an accepted connection. */
        boolean active;
        ByteBuffer toHost;
        int toHostLength;
        boolean guestFin;
        boolean hostOutputShut;
        boolean ackPending;
        boolean inDirty;
        boolean timersWatched;
        // host to guest
        final int iss;
        int sndUna;
        int sndNxt;
        long sndWnd;
        int guestWindowScale;
        boolean windowScaling;
        int mss;
        /** The largest segment we send: the MSS, or up to 64 KiB when the guest's link segments for us. */
        int segmentLimit;
        /** The guest's link finishes TCP checksums and segments large frames (virtio-net offload). */
        boolean offload;
        boolean synAcked;
        ByteBuffer ring;
        int ringStart;
        int ringLength;
        int ringSeq;
        boolean hostEof;
        boolean finSent;
        int finSeq;
        boolean finAcked;
        long rtoDeadline;
        int rtoMillis = MIN_RTO_MILLIS;
        int retries;
        int dupAcks;
        /** Answered in process by the DNS service instead of a host socket (the gateway's port 53). */
        boolean dns;
        int dnsPending;

        Connection(FlowKey key, SocketChannel channel, int irs, int iss) {
            this.key = key;
            this.channel = channel;
            this.irs = irs;
            this.rcvNxt = irs + 1;
            this.iss = iss;
            this.sndUna = iss;
            this.sndNxt = iss;
            this.ringSeq = iss + 1;
        }

        String state() {
            if (active && !synAcked) {
                return "syn-sent";
            }
            if (connecting) {
                return "connecting";
            }
            if (!synAcked) {
                return "syn-received";
            }
            if (guestFin && (finSent || hostEof)) {
                return "closing";
            }
            if (guestFin) {
                return "guest-closed";
            }
            if (hostEof) {
                return "host-closed";
            }
            return "established";
        }
    }

    Tcp(NetStack stack) {
        this.stack = stack;
        this.config = stack.config;
        this.bufferLimit = config.tcpBufferBytes();
        this.small = new BufferPool(Math.min(SMALL_BUFFER, bufferLimit), 1024);
        this.large = new BufferPool(bufferLimit, 64);
    }

    // ---------------------------------------------------------------- segments from the guest

    void input(ByteBuffer f, int ihl, int totalLen, int src, int dst) {
        int off = NetStack.IP_OFF + ihl;
        int len = totalLen - ihl;
        if (len < 20) {
            stack.stats.drop(Drop.TRUNCATED);
            return;
        }
        int dataOffset = (f.get(off + 12) >> 4 & 15) * 4;
        if (dataOffset < 20 || dataOffset > len) {
            stack.stats.drop(Drop.TRUNCATED);
            return;
        }
        if (!stack.l4ChecksumPending
                && Checksum.fold(Checksum.sum(f, off, len, Checksum.pseudoHeader(src, dst, NetStack.PROTO_TCP, len))) != 0) {
            stack.stats.drop(Drop.BAD_TCP_CHECKSUM);
            return;
        }
        segmentsFromGuest++;
        int srcPort = f.getShort(off) & 0xffff;
        int dstPort = f.getShort(off + 2) & 0xffff;
        int seq = f.getInt(off + 4);
        int ack = f.getInt(off + 8);
        int flags = f.get(off + 13) & 0x3f;
        int window = f.getShort(off + 14) & 0xffff;
        int payload = off + dataOffset;
        int payloadLength = len - dataOffset;
        Connection c = table.get(probe.set(src, srcPort, dst, dstPort));
        if (c != null && c.active && ((flags & SYN) != 0 || !c.synAcked)) {
            activeHandshake(c, f, off, dataOffset, flags, seq, ack, window);
            return;
        }
        if (c == null) {
            if ((flags & RST) != 0) {
                return;
            }
            if ((flags & (SYN | ACK)) == SYN) {
                open(f, off, dataOffset, src, srcPort, dst, dstPort, seq, window, ihl, totalLen);
                return;
            }
            stack.stats.drop(Drop.TCP_NO_CONNECTION);
            reset(src, srcPort, dst, dstPort, seq, ack, flags, payloadLength);
            return;
        }
        segment(c, flags, seq, ack, window, f, payload, payloadLength);
    }

    /** Answers a segment to a refused destination (cloud metadata) with a reset. */
    void refuse(ByteBuffer f, int ihl, int totalLen, int src, int dst) {
        int off = NetStack.IP_OFF + ihl;
        if (totalLen - ihl < 20) {
            return;
        }
        int flags = f.get(off + 13) & 0x3f;
        if ((flags & RST) == 0) {
            int dataOffset = (f.get(off + 12) >> 4 & 15) * 4;
            reset(src, f.getShort(off) & 0xffff, dst, f.getShort(off + 2) & 0xffff, f.getInt(off + 4), f.getInt(off + 8),
                    flags, Math.max(0, totalLen - ihl - dataOffset));
        }
    }

    /**
     * The MSS and window scale a SYN announces, packed without allocating: MSS in the low 16 bits
     * (536 when absent), window scale + 1 above them (0 when absent).
     */
    private static int synOptions(ByteBuffer f, int off, int dataOffset) {
        int mss = 536;
        int scale = -1;
        for (int i = off + 20, end = off + dataOffset; i < end; ) {
            int kind = f.get(i) & 0xff;
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= end) {
                break;
            }
            int olen = f.get(i + 1) & 0xff;
            if (olen < 2 || i + olen > end) {
                break;
            }
            if (kind == 2 && olen == 4) {
                mss = f.getShort(i + 2) & 0xffff;
            } else if (kind == 3 && olen == 3) {
                scale = Math.min(14, f.get(i + 2) & 0xff);
            }
            i += olen;
        }
        return (scale + 1) << 16 | mss;
    }

    private void open(ByteBuffer f, int off, int dataOffset, int src, int srcPort, int dst, int dstPort, int seq,
                      int window, int ihl, int totalLen) {
        if (table.size() >= config.maxTcpConnections()) {
            stack.stats.drop(Drop.TCP_CONNECTION_LIMIT);
            return;
        }
        if (halfOpen >= config.maxHalfOpenConnections()) {
            stack.stats.drop(Drop.TCP_HALF_OPEN_LIMIT);
            return;
        }
        InetSocketAddress redirect = null;
        OutboundRouter router = stack.router;
        if (router != null && !(dst == config.gateway() && dstPort == 53 && stack.dns != null)) {
            try {
                redirect = router.route(src, srcPort, dst, dstPort);
            } catch (RuntimeException e) {
                LOG.warn("outbound router failed; refusing the connection", e);
                redirect = OutboundRouter.REFUSE;
            }
            if (redirect != null && redirect.isUnresolved()) { // REFUSE, or a target the stack cannot connect to
                redirect = OutboundRouter.REFUSE;
            }
            if (redirect == OutboundRouter.REFUSE) {
                refused++;
                reset(src, srcPort, dst, dstPort, seq, 0, SYN, 0);
                return;
            }
        }
        if (redirect == null && dst == config.gateway() && (dstPort != 53 || stack.dns == null)) {
            refused++;
            reset(src, srcPort, dst, dstPort, seq, 0, SYN, 0);
            return;
        }
        int options = synOptions(f, off, dataOffset);
        int mss = options & 0xffff;
        int scale = (options >>> 16) - 1;
        if (dst == config.gateway() && redirect == null) {
            FlowKey key = new FlowKey().set(src, srcPort, dst, dstPort);
            Connection c = new Connection(key, null, seq, random.nextInt());
            c.dns = true;
            c.mss = Math.max(64, Math.min(mss, config.mss()));
            c.segmentLimit = c.mss;
            c.windowScaling = scale >= 0;
            c.guestWindowScale = Math.max(0, scale);
            c.sndWnd = window;
            c.lastActive = System.nanoTime();
            table.put(key, c);
            opened++;
            established(c);
            return;
        }
        SocketChannel channel = null;
        try {
            InetSocketAddress target = redirect != null ? redirect
                    : new InetSocketAddress(dst == config.hostAlias() ? config.hostLoopback() : Ip4.toInet(dst), dstPort);
            // an IPv4 socket rather than the default dual-stack one: shorter connect and close paths in the kernel
            channel = target.getAddress() instanceof Inet4Address ? SocketChannel.open(StandardProtocolFamily.INET) : SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            FlowKey key = new FlowKey().set(src, srcPort, dst, dstPort);
            Connection c = new Connection(key, channel, seq, random.nextInt());
            takeSynOptions(c, mss, scale, window);
            c.lastActive = System.nanoTime();
            if (redirect != null) {
                channel.bind(new InetSocketAddress(redirect.getAddress(), 0));
                try {
                    router.redirected((InetSocketAddress) channel.getLocalAddress(), src, srcPort, dst, dstPort);
                } catch (RuntimeException e) {
                    throw new ConnectException("outbound router failed: " + e);
                }
            }
            boolean connected = channel.connect(target);
            if (!connected) {
                // loopback handshakes are usually done by now: saves a trip through the selector
                connected = channel.finishConnect();
            }
            table.put(key, c);
            opened++;
            if (connected) {
                c.interest = SelectionKey.OP_READ;
                c.selectionKey = channel.register(stack.selector, c.interest, c);
                established(c);
            } else {
                c.connecting = true;
                halfOpen++;
                c.connectDeadline = System.nanoTime() + config.tcpConnectTimeoutMillis() * 1_000_000L;
                watchTimers(c);
                c.interest = SelectionKey.OP_CONNECT;
                c.selectionKey = channel.register(stack.selector, c.interest, c);
            }
            stack.wakeLoop();
        } catch (ConnectException e) {
            refused++;
            table.remove(probe.set(src, srcPort, dst, dstPort));
            closeQuietly(channel);
            reset(src, srcPort, dst, dstPort, seq, 0, SYN, 0);
        } catch (IOException e) {
            table.remove(probe.set(src, srcPort, dst, dstPort));
            closeQuietly(channel);
            stack.icmpError(f, ihl, totalLen, 3, 1, config.gateway());
        }
    }

    /**
     * Opens a connection to {@code guestIp:guestPort} from {@code srcIp} (an address of ours) for an
     * accepted host connection: our SYN goes to the guest, the host side is read at once (its bytes
     * wait in the ring until the guest's SYN-ACK) and both directions then run through the same
     * windows, retransmission and teardown as connections the guest opens.
     *
     * @return false when the connection table is full (the caller closes the host side)
     */
    boolean openToGuest(SocketChannel channel, int srcIp, int guestIp, int guestPort) throws IOException {
        if (table.size() >= config.maxTcpConnections()) {
            stack.stats.drop(Drop.TCP_CONNECTION_LIMIT);
            return false;
        }
        FlowKey key = new FlowKey();
        for (int tries = 0; ; tries++) {
            // ports in turn, so one comes back as late as possible (the guest may keep the last use in TIME-WAIT)
            nextActivePort = nextActivePort >= 65535 ? 49152 : nextActivePort + 1;
            key.set(guestIp, guestPort, srcIp, nextActivePort);
            if (!table.containsKey(key)) {
                break;
            }
            if (tries > 16384) {
                return false;
            }
        }
        Connection c = new Connection(key, channel, 0, activeIss(key));
        c.active = true;
        c.mss = config.mss();
        c.segmentLimit = c.mss;
        c.windowScaling = true;
        c.lastActive = System.nanoTime();
        channel.configureBlocking(false);
        c.interest = SelectionKey.OP_READ;
        c.selectionKey = channel.register(stack.selector, c.interest, c);
        table.put(key, c);
        opened++;
        activeOpened++;
        c.sndNxt = c.iss + 1;
        sendSyn(c);
        c.rtoDeadline = System.nanoTime() + c.rtoMillis * 1_000_000L;
        watchTimers(c);
        stack.selector.wakeup();
        return true;
    }

    /**
     * The initial sequence number of a connection we open, clock-driven as RFC 6528 describes: a
     * 4-microsecond counter plus a secret function of the 4-tuple. A port used again starts above
     * where its last connection ended, so a guest still holding that one in TIME-WAIT accepts the SYN.
     */
    private int activeIss(FlowKey key) {
        int h = key.hashCode() * 0x9E3779B9 ^ isnSecret;
        return (int) (System.nanoTime() / 4000) + (h ^ h >>> 15);
    }

    /** The guest's answer to our SYN: a SYN-ACK establishes the connection, a reset refuses it. */
    private void activeHandshake(Connection c, ByteBuffer f, int off, int dataOffset, int flags, int seq, int ack, int window) {
        c.lastActive = System.nanoTime();
        if (c.synAcked) {
            // our ACK of its SYN-ACK was lost: acknowledge again
            if ((flags & RST) == 0) {
                sendAck(c);
            }
            return;
        }
        if ((flags & ACK) == 0) {
            return;
        }
        if (ack != c.iss + 1) {
            // not for our SYN (an old connection's segment): reset it as RFC 793 says, our SYN is retransmitted
            if ((flags & RST) == 0) {
                reset(c.key.guestIp, c.key.guestPort, c.key.dstIp, c.key.dstPort, seq, ack, flags, 0);
            }
            return;
        }
        if ((flags & RST) != 0) {
            refusedByGuest++;
            abort(c, false);
            return;
        }
        if ((flags & SYN) == 0) {
            return;
        }
        int options = synOptions(f, off, dataOffset);
        int mss = options & 0xffff;
        int scale = (options >>> 16) - 1;
        c.irs = seq;
        c.rcvNxt = seq + 1;
        c.sndUna = ack;
        c.synAcked = true;
        takeSynOptions(c, mss, scale, window);
        c.retries = 0;
        c.rtoMillis = MIN_RTO_MILLIS;
        c.rtoDeadline = 0;
        sendAck(c);
        trySend(c);
    }

    /** What the guest's SYN (or SYN-ACK) offered: its segment size (within ours), its window scale ({@code -1}: none) and its window. */
    private void takeSynOptions(Connection c, int mss, int scale, int window) {
        c.mss = Math.max(64, Math.min(mss, config.mss()));
        c.segmentLimit = segmentLimit(c.mss);
        c.offload = c.segmentLimit > c.mss || (stack.currentPort != null && stack.currentPort.segmentationOffload());
        c.windowScaling = scale >= 0;
        c.guestWindowScale = Math.max(0, scale);
        c.sndWnd = window;
    }

    private int segmentLimit(int mss) {
        NetStack.GuestPort port = stack.currentPort;
        if (port == null || !port.segmentationOffload()) {
            return mss;
        }
        return Math.max(mss, MAX_GSO_PAYLOAD / mss * mss);
    }

    private void established(Connection c) {
        c.sndNxt = c.iss + 1;
        sendSyn(c);
        c.rtoDeadline = System.nanoTime() + c.rtoMillis * 1_000_000L;
        watchTimers(c);
    }

    private void segment(Connection c, int flags, int seq, int ack, int window, ByteBuffer f, int payload, int length) {
        c.lastActive = System.nanoTime();
        if ((flags & RST) != 0) {
            resetByGuest++;
            abort(c, false);
            return;
        }
        if ((flags & SYN) != 0) {
            if (seq == c.irs && !c.connecting && !c.synAcked) {
                sendSyn(c);
            }
            return;
        }
        if ((flags & ACK) == 0 || c.connecting) {
            return;
        }
        // acknowledgement of what we sent
        if (after(ack, c.sndUna) && !after(ack, c.sndNxt)) {
            c.synAcked = true;
            int freed = Math.min(ack - c.ringSeq, c.ringLength);
            if (freed > 0) {
                c.ringStart = (c.ringStart + freed) % c.ring.capacity();
                c.ringLength -= freed;
                c.ringSeq += freed;
                bytesToGuest += freed;
            }
            if (c.finSent && ack == c.finSeq + 1) {
                c.finAcked = true;
            }
            c.sndUna = ack;
            c.dupAcks = 0;
            c.retries = 0;
            c.rtoMillis = MIN_RTO_MILLIS;
            c.rtoDeadline = c.sndNxt != c.sndUna ? c.lastActive + c.rtoMillis * 1_000_000L : 0;
            if (c.rtoDeadline != 0) {
                watchTimers(c);
            }
            if (c.ringLength == 0 && c.ring != null) {
                give(c.ring);
                c.ring = null;
                c.ringStart = 0;
            }
            c.sndWnd = (long) window << (c.windowScaling ? c.guestWindowScale : 0);
            if (freed > 0 && (c.interest & SelectionKey.OP_READ) == 0 && !c.hostEof) {
                readFromHost(c);
            }
        } else {
            c.sndWnd = (long) window << (c.windowScaling ? c.guestWindowScale : 0);
            if (ack == c.sndUna && length == 0 && (flags & FIN) == 0 && c.sndNxt != c.sndUna && ++c.dupAcks == 3) {
                c.sndNxt = c.sndUna;
                retransmits++;
            }
        }
        // data and FIN from the guest
        if (length > 0 || (flags & FIN) != 0) {
            if (seq != c.rcvNxt) {
                int skip = c.rcvNxt - seq;
                if (skip > 0 && skip < length) {
                    payload += skip;
                    length -= skip;
                } else {
                    if (skip <= 0) {
                        stack.stats.drop(Drop.TCP_OUT_OF_ORDER);
                    }
                    sendAck(c);
                    trySend(c);
                    return;
                }
            }
            if (c.guestFin) {
                sendAck(c);
                return;
            }
            int accepted = 0;
            if (length > 0) {
                accepted = Math.min(length, bufferLimit - c.toHostLength);
                if (accepted < length) {
                    stack.stats.drop(Drop.TCP_WINDOW_FULL);
                }
                int written = 0;
                if (c.toHostLength == 0 && !c.dns) {
                    // nothing queued: straight from the frame into the host socket, no copy of ours
                    int limit = f.limit();
                    f.limit(payload + accepted).position(payload);
                    try {
                        written = c.channel.write(f);
                    } catch (IOException e) {
                        resetByHost++;
                        abort(c, true);
                        return;
                    } finally {
                        f.limit(limit).position(0);
                    }
                    bytesToHost += written;
                }
                if (written < accepted) {
                    ensureToHost(c, c.toHostLength + accepted - written);
                    c.toHost.put(c.toHostLength, f, payload + written, accepted - written);
                    c.toHostLength += accepted - written;
                }
                c.rcvNxt += accepted;
                markDirty(c);
            }
            if ((flags & FIN) != 0 && accepted == length) {
                c.rcvNxt++;
                c.guestFin = true;
            }
            c.ackPending = true;
            markDirty(c);
        }
        trySend(c);
        if (c.guestFin && c.toHostLength == 0) {
            flushToHost(c);
        }
    }

    /** Makes room for {@code needed} queued bytes towards the host, moving to a large buffer when a small one is full. */
    private void ensureToHost(Connection c, int needed) {
        if (c.toHost == null) {
            c.toHost = needed <= small.bufferSize() ? small.take() : large.take();
            c.toHostLength = 0;
        } else if (c.toHost.capacity() < needed) {
            ByteBuffer bigger = large.take();
            bigger.put(0, c.toHost, 0, c.toHostLength);
            give(c.toHost);
            c.toHost = bigger;
        }
        c.toHost.limit(c.toHost.capacity());
    }

    /** Moves the host-to-guest ring into a large buffer, its bytes from index 0. */
    private void growRing(Connection c) {
        ByteBuffer bigger = large.take();
        int capacity = c.ring.capacity();
        int first = Math.min(c.ringLength, capacity - c.ringStart);
        c.ring.limit(capacity);
        bigger.put(0, c.ring, c.ringStart, first);
        if (first < c.ringLength) {
            bigger.put(first, c.ring, 0, c.ringLength - first);
        }
        give(c.ring);
        c.ring = bigger;
        c.ringStart = 0;
    }

    private void give(ByteBuffer b) {
        if (b.capacity() == large.bufferSize()) {
            large.give(b);
        } else {
            small.give(b);
        }
    }

    private void markDirty(Connection c) {
        if (!c.inDirty) {
            c.inDirty = true;
            dirty.add(c);
        }
    }

    /** The end of a batch of frames: write what the guests sent to the host sockets, then acknowledge it. */
    void flush() {
        for (int i = 0; i < dirty.size(); i++) {
            Connection c = dirty.get(i);
            c.inDirty = false;
            if (c.closed) {
                continue;
            }
            flushToHost(c);
            if (!c.closed && c.ackPending) {
                sendAck(c);
            }
        }
        dirty.clear();
    }

    private void flushToHost(Connection c) {
        if (c.dns) {
            answerQueries(c);
            return;
        }
        if (c.toHostLength > 0) {
            ByteBuffer b = c.toHost;
            int before = c.toHostLength;
            b.limit(before).position(0);
            try {
                c.channel.write(b);
            } catch (IOException e) {
                resetByHost++;
                abort(c, true);
                return;
            }
            if (b.hasRemaining()) {
                b.compact();
                c.toHostLength = b.position();
            } else {
                c.toHostLength = 0;
            }
            bytesToHost += before - c.toHostLength;
            if (c.toHostLength == 0) {
                give(b);
                c.toHost = null;
                interest(c, c.interest & ~SelectionKey.OP_WRITE);
            } else {
                interest(c, c.interest | SelectionKey.OP_WRITE);
            }
            if (before - c.toHostLength > 0 && before > bufferLimit / 2) {
                c.ackPending = true;
            }
        }
        if (c.toHostLength == 0 && c.guestFin && !c.hostOutputShut) {
            c.hostOutputShut = true;
            try {
                c.channel.shutdownOutput();
            } catch (IOException e) {
                LOG.debug("shutting down a host connection's output", e);
            }
            closeIfDone(c);
        }
    }

    /** DNS over TCP: every complete length-prefixed query in the guest's stream goes to the DNS service. */
    private void answerQueries(Connection c) {
        ByteBuffer b = c.toHost;
        int at = 0;
        while (b != null && c.toHostLength - at >= 2) {
            int length = b.getShort(at) & 0xffff;
            if (c.toHostLength - at < 2 + length) {
                break;
            }
            dev.slipway.dns.api.DnsService dns = stack.dns;
            if (dns == null) {
                abort(c, true);
                return;
            }
            b.limit(at + 2 + length).position(at + 2);
            at += 2 + length;
            c.dnsPending++;
            java.net.InetSocketAddress client = new java.net.InetSocketAddress(Ip4.toInet(c.key.guestIp), c.key.guestPort);
            try {
                dns.answer(b, client, true, answer -> dnsAnswer(c, answer));
            } catch (RuntimeException e) {
                c.dnsPending--;
                LOG.warn("the DNS service failed on a TCP query", e);
            }
            if (c.closed) {
                return;
            }
        }
        if (at > 0 && b != null) {
            b.limit(b.capacity());
            b.put(0, b, at, c.toHostLength - at);
            c.toHostLength -= at;
            c.ackPending = true;
        }
        if (c.toHostLength == 0 && c.toHost != null) {
            give(c.toHost);
            c.toHost = null;
        }
        if (c.guestFin && c.toHostLength == 0 && c.dnsPending == 0 && !c.hostEof) {
            c.hostOutputShut = true;
            c.hostEof = true;
            trySend(c);
        }
    }

    private void dnsAnswer(Connection c, ByteBuffer answer) {
        stack.lock.lock();
        try {
            c.dnsPending--;
            if (c.closed) {
                return;
            }
            if (answer != null) {
                int n = answer.remaining();
                if (n > 65535 || bufferLimit - c.ringLength < n + 2) {
                    stack.stats.drop(Drop.OVERSIZED);
                } else {
                    if (c.ring == null) {
                        c.ring = n + 2 <= small.bufferSize() ? small.take() : large.take();
                        c.ringStart = 0;
                    } else if (c.ring.capacity() - c.ringLength < n + 2) {
                        growRing(c);
                    }
                    c.ring.limit(c.ring.capacity());
                    putRing(c, (byte) (n >>> 8));
                    putRing(c, (byte) n);
                    for (int i = 0; i < n; i++) {
                        putRing(c, answer.get(answer.position() + i));
                    }
                }
            }
            if (c.guestFin && c.toHostLength == 0 && c.dnsPending == 0) {
                c.hostOutputShut = true;
                c.hostEof = true;
            }
            trySend(c);
        } finally {
            stack.lock.unlock();
        }
    }

    private void putRing(Connection c, byte v) {
        c.ring.put((c.ringStart + c.ringLength) % c.ring.capacity(), v);
        c.ringLength++;
    }

    // ---------------------------------------------------------------- host socket events

    void ready(Connection c, SelectionKey key) {
        if (c.closed || !key.isValid()) {
            return;
        }
        int ready = key.readyOps();
        if ((ready & SelectionKey.OP_CONNECT) != 0) {
            try {
                if (!c.channel.finishConnect()) {
                    return;
                }
            } catch (ConnectException e) {
                refused++;
                halfOpen--;
                c.connecting = false;
                reset(c.key.guestIp, c.key.guestPort, c.key.dstIp, c.key.dstPort, c.irs, 0, SYN, 0);
                abort(c, false);
                return;
            } catch (IOException e) {
                halfOpen--;
                c.connecting = false;
                unreachable(c);
                abort(c, false);
                return;
            }
            halfOpen--;
            c.connecting = false;
            interest(c, SelectionKey.OP_READ);
            established(c);
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            flushToHost(c);
            if (!c.closed && c.toHostLength == 0) {
                sendAck(c);
            }
        }
        if (!c.closed && (ready & SelectionKey.OP_READ) != 0) {
            readFromHost(c);
        }
    }

    private void readFromHost(Connection c) {
        if (c.hostEof || c.closed || c.connecting || c.dns) {
            return;
        }
        while (true) {
            if (c.ring == null) {
                c.ring = small.take();
                c.ringStart = 0;
            }
            int capacity = c.ring.capacity();
            int free = capacity - c.ringLength;
            if (free == 0) {
                if (capacity < bufferLimit) {
                    growRing(c);
                    continue;
                }
                interest(c, c.interest & ~SelectionKey.OP_READ);
                break;
            }
            int at = (c.ringStart + c.ringLength) % capacity;
            int chunk = Math.min(free, capacity - at);
            c.ring.limit(at + chunk).position(at);
            int n;
            try {
                n = c.channel.read(c.ring);
            } catch (IOException e) {
                resetByHost++;
                abort(c, true);
                return;
            }
            if (n < 0) {
                c.hostEof = true;
                interest(c, c.interest & ~SelectionKey.OP_READ);
                break;
            }
            if (n == 0) {
                interest(c, c.interest | SelectionKey.OP_READ);
                break;
            }
            c.ringLength += n;
            c.lastActive = System.nanoTime();
            if (n < chunk) {
                interest(c, c.interest | SelectionKey.OP_READ);
                break;
            }
        }
        if (c.ringLength == 0 && c.ring != null) {
            give(c.ring);
            c.ring = null;
            c.ringStart = 0;
        }
        trySend(c);
    }

    private void interest(Connection c, int ops) {
        if (ops != c.interest && !c.closed && c.selectionKey != null) {
            boolean adding = (ops & ~c.interest) != 0;
            c.interest = ops;
            try {
                c.selectionKey.interestOps(ops);
            } catch (RuntimeException e) {
                return;
            }
            if (adding) {
                stack.wakeLoop();
            }
        }
    }

    // ---------------------------------------------------------------- segments to the guest

    private void trySend(Connection c) {
        if (c.closed || !c.synAcked) {
            return;
        }
        while (true) {
            int unsent = c.ringSeq + c.ringLength - c.sndNxt;
            if (unsent <= 0) {
                break;
            }
            long available = c.sndWnd - (c.sndNxt - c.sndUna);
            if (available <= 0) {
                break;
            }
            int n = (int) Math.min(Math.min(unsent, c.segmentLimit), available);
            sendData(c, c.sndNxt, n, n == unsent ? ACK | PSH : ACK);
            c.sndNxt += n;
        }
        if (c.hostEof && c.sndNxt == c.ringSeq + c.ringLength && (!c.finSent || c.sndNxt == c.finSeq)) {
            c.finSent = true;
            c.finSeq = c.sndNxt;
            sendFlags(c, FIN | ACK, c.sndNxt);
            c.sndNxt++;
        }
        if (c.rtoDeadline == 0 && (c.sndNxt != c.sndUna || c.ringSeq + c.ringLength != c.sndNxt)) {
            c.rtoDeadline = System.nanoTime() + c.rtoMillis * 1_000_000L;
            watchTimers(c);
        }
        closeIfDone(c);
    }

    private int advertisedWindow(Connection c) {
        int free = bufferLimit - c.toHostLength;
        if (c.windowScaling) {
            return Math.min(65535, free >> OUR_WINDOW_SCALE);
        }
        return Math.min(65535, free);
    }

    private void sendData(Connection c, int seq, int n, int flags) {
        ByteBuffer o = stack.out;
        o.clear();
        int tcp = NetStack.IP_OFF + 20;
        int data = tcp + 20;
        int capacity = c.ring.capacity();
        int at = (c.ringStart + (seq - c.ringSeq)) % capacity;
        int first = Math.min(n, capacity - at);
        segmentsToGuest++;
        if (c.offload && first == n) {
            // the checksum is left to the guest's link, so the payload need not pass through our frame buffer
            fillHeaders(c, o, flags, seq, 20, n);
            try {
                stack.sendToGuest(o, data, c.ring, at, n);
            } finally {
                stack.gsoSize = 0;
            }
            return;
        }
        c.ring.limit(capacity);
        o.put(data, c.ring, at, first);
        if (first < n) {
            o.put(data + first, c.ring, 0, n - first);
        }
        header(c, o, flags, seq, 20, n);
    }

    private void sendFlags(Connection c, int flags, int seq) {
        ByteBuffer o = stack.out;
        o.clear();
        header(c, o, flags, seq, 20, 0);
    }

    private void sendAck(Connection c) {
        sendFlags(c, ACK, c.sndNxt);
    }

    private void sendSyn(Connection c) {
        ByteBuffer o = stack.out;
        o.clear();
        int opt = NetStack.IP_OFF + 40;
        o.putInt(opt, 2 << 24 | 4 << 16 | config.mss());
        int hlen = 24;
        if (c.windowScaling) {
            o.putInt(opt + 4, 1 << 24 | 3 << 16 | 3 << 8 | OUR_WINDOW_SCALE);
            hlen = 28;
        }
        header(c, o, c.active ? SYN : SYN | ACK, c.iss, hlen, 0);
    }

    /** Fills in the TCP and IP headers in front of {@code n} payload bytes and sends the frame. */
    private void header(Connection c, ByteBuffer o, int flags, int seq, int hlen, int n) {
        int frameLength = fillHeaders(c, o, flags, seq, hlen, n);
        try {
            stack.sendToGuest(o, frameLength);
        } finally {
            stack.gsoSize = 0;
        }
    }

    /**
     * Fills in the TCP and IP headers in front of {@code n} payload bytes (summed from {@code o}
     * unless the guest's link finishes the checksum, which also sets the stack's GSO size for the
     * send); returns the frame's length.
     */
    private int fillHeaders(Connection c, ByteBuffer o, int flags, int seq, int hlen, int n) {
        int tcp = NetStack.IP_OFF + 20;
        o.putShort(tcp, (short) c.key.dstPort);
        o.putShort(tcp + 2, (short) c.key.guestPort);
        o.putInt(tcp + 4, seq);
        o.putInt(tcp + 8, c.rcvNxt);
        int window = (flags & SYN) != 0 ? Math.min(65535, bufferLimit - c.toHostLength) : advertisedWindow(c);
        o.putInt(tcp + 12, (hlen / 4) << 28 | flags << 16 | window);
        o.putInt(tcp + 16, 0);
        int segment = hlen + n;
        long pseudo = Checksum.pseudoHeader(c.key.dstIp, c.key.guestIp, NetStack.PROTO_TCP, segment);
        if (c.offload && n > 0) {
            // the guest's side finishes the checksum (and segments what exceeds the MSS): leave the pseudo-header sum
            o.putShort(tcp + 16, (short) (~Checksum.fold(pseudo) & 0xffff));
            stack.gsoSize = c.mss;
        } else {
            o.putShort(tcp + 16, (short) Checksum.fold(Checksum.sum(o, tcp, segment, pseudo)));
        }
        stack.ipHeader(o, 20 + segment, NetStack.PROTO_TCP, c.key.dstIp, c.key.guestIp, true);
        c.ackPending = false;
        return NetStack.ETH_HLEN + 20 + segment;
    }

    /** A reset for a segment that has no connection (RFC 793 "reset generation"). */
    private void reset(int guestIp, int guestPort, int dstIp, int dstPort, int seq, int ack, int flags, int length) {
        ByteBuffer o = stack.out;
        o.clear();
        int tcp = NetStack.IP_OFF + 20;
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
        o.putShort(tcp, (short) dstPort);
        o.putShort(tcp + 2, (short) guestPort);
        o.putInt(tcp + 4, rseq);
        o.putInt(tcp + 8, rack);
        o.putInt(tcp + 12, 5 << 28 | rflags << 16);
        o.putInt(tcp + 16, 0);
        o.putShort(tcp + 16, (short) Checksum.fold(Checksum.sum(o, tcp, 20,
                Checksum.pseudoHeader(dstIp, guestIp, NetStack.PROTO_TCP, 20))));
        stack.ipHeader(o, 40, NetStack.PROTO_TCP, dstIp, guestIp, true);
        stack.sendToGuest(o, NetStack.ETH_HLEN + 40);
    }

    /** ICMP host unreachable for a connection the host could not reach, quoting its SYN. */
    private void unreachable(Connection c) {
        ByteBuffer o = stack.out;
        o.clear();
        int tcp = NetStack.IP_OFF + 20;
        o.putShort(tcp, (short) c.key.guestPort).putShort(tcp + 2, (short) c.key.dstPort).putInt(tcp + 4, c.irs);
        o.putInt(NetStack.IP_OFF, 0x4500_0000 | 40);
        o.putInt(NetStack.IP_OFF + 4, 0);
        o.putInt(NetStack.IP_OFF + 8, 64 << 24 | NetStack.PROTO_TCP << 16);
        o.putInt(NetStack.IP_OFF + 12, c.key.guestIp);
        o.putInt(NetStack.IP_OFF + 16, c.key.dstIp);
        stack.icmpError(o, 20, 40, 3, 1, config.gateway());
    }

    // ---------------------------------------------------------------- timers and teardown

    /**
     * Keeps {@code c} in the list the tick walks for due retransmissions and connect timeouts; a
     * connection leaves it at the first tick after its timers are disarmed, so the tick costs the
     * number of connections with data or a handshake in flight, not the number open.
     */
    private void watchTimers(Connection c) {
        if (!c.timersWatched) {
            c.timersWatched = true;
            if (watchedCount == watched.length) {
                watched = java.util.Arrays.copyOf(watched, watchedCount * 2);
            }
            watched[watchedCount++] = c;
        }
    }

    void timers(long now) {
        scratch.clear();
        int kept = 0;
        for (int i = 0; i < watchedCount; i++) {
            Connection c = watched[i];
            if (c.closed || (c.rtoDeadline == 0 && !c.connecting)) {
                c.timersWatched = false;
                continue;
            }
            watched[kept++] = c;
            if ((c.rtoDeadline != 0 && now - c.rtoDeadline >= 0) || (c.connecting && now - c.connectDeadline >= 0)) {
                scratch.add(c);
            }
        }
        java.util.Arrays.fill(watched, kept, watchedCount, null);
        watchedCount = kept;
        for (int i = 0; i < scratch.size(); i++) {
            Connection c = scratch.get(i);
            if (c.closed) {
                continue;
            }
            if (c.connecting) {
                timedOut++;
                halfOpen--;
                c.connecting = false;
                unreachable(c);
                abort(c, false);
                continue;
            }
            if (++c.retries > MAX_RETRANSMITS) {
                abort(c, true);
                continue;
            }
            retransmits++;
            c.rtoMillis = Math.min(MAX_RTO_MILLIS, c.rtoMillis * 2);
            c.rtoDeadline = now + c.rtoMillis * 1_000_000L;
            if (!c.synAcked) {
                sendSyn(c);
                continue;
            }
            c.sndNxt = c.sndUna;
            int unsent = c.ringSeq + c.ringLength - c.sndNxt;
            if (unsent > 0 && c.sndWnd == 0) {
                // zero-window probe: one byte past the window
                sendData(c, c.sndNxt, 1, ACK);
                c.sndNxt++;
            } else if (unsent > 0 && c.sndWnd < Math.min(unsent, c.mss)) {
                int n = Math.min(unsent, c.mss);
                sendData(c, c.sndNxt, n, ACK | PSH);
                c.sndNxt += n;
            }
            trySend(c);
        }
        scratch.clear();
    }

    void expire(long now) {
        long idle = config.tcpIdleTimeoutSeconds() * 1_000_000_000L;
        scratch.clear();
        for (Connection c : table.values()) {
            if (now - c.lastActive > idle) {
                scratch.add(c);
            }
        }
        for (int i = 0; i < scratch.size(); i++) {
            idleClosed++;
            abort(scratch.get(i), true);
        }
        scratch.clear();
    }

    private void closeIfDone(Connection c) {
        if (!c.closed && c.guestFin && c.hostOutputShut && c.finAcked && c.toHostLength == 0) {
            closedNormally++;
            remove(c);
            closeQuietly(c.channel);
        }
    }

    /** Tears the connection down at once: a reset to the guest if asked, a reset to the host peer always. */
    private void abort(Connection c, boolean resetGuest) {
        if (c.closed) {
            return;
        }
        if (resetGuest && !c.connecting) {
            sendFlags(c, RST | ACK, c.sndNxt);
        }
        if (c.connecting) {
            halfOpen--;
            c.connecting = false;
        }
        remove(c);
        try {
            if (c.channel != null && c.channel.isConnected()) {
                c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("setting SO_LINGER", e);
        }
        closeQuietly(c.channel);
    }

    private void remove(Connection c) {
        c.closed = true;
        table.remove(c.key);
        if (c.toHost != null) {
            give(c.toHost);
            c.toHost = null;
        }
        if (c.ring != null) {
            give(c.ring);
            c.ring = null;
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a host connection", e);
            }
        }
    }

    void closeAll() {
        scratch.clear();
        scratch.addAll(table.values());
        for (Connection c : scratch) {
            abort(c, true);
        }
        scratch.clear();
    }

    private static boolean after(int a, int b) {
        return a - b > 0;
    }

    int size() {
        return table.size();
    }

    int halfOpen() {
        return halfOpen;
    }

    long buffersInUse() {
        return small.inUse() + large.inUse();
    }

    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Integer> byState = new LinkedHashMap<>();
        for (Connection c : table.values()) {
            byState.merge(c.state(), 1, Integer::sum);
        }
        m.put("connections", table.size());
        m.put("byState", byState);
        m.put("opened", opened);
        m.put("refused", refused);
        m.put("timedOut", timedOut);
        m.put("closed", closedNormally);
        m.put("resetByGuest", resetByGuest);
        m.put("resetByHost", resetByHost);
        m.put("idleClosed", idleClosed);
        m.put("retransmits", retransmits);
        m.put("openedToGuest", activeOpened);
        m.put("refusedByGuest", refusedByGuest);
        m.put("bytesToHost", bytesToHost);
        m.put("bytesToGuest", bytesToGuest);
        m.put("segmentsFromGuest", segmentsFromGuest);
        m.put("segmentsToGuest", segmentsToGuest);
        m.put("buffersInUse", small.inUse() + large.inUse());
        return m;
    }
}
