package dev.slipway.networking.stack.tcp;

import static dev.slipway.networking.stack.tcp.TcpSender.ACK;
import static dev.slipway.networking.stack.tcp.TcpSender.FIN;
import static dev.slipway.networking.stack.tcp.TcpSender.PSH;
import static dev.slipway.networking.stack.tcp.TcpSender.RST;
import static dev.slipway.networking.stack.tcp.TcpSender.SYN;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.host.HostStream;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.loop.Timer;

/**
 * One guest connection: the state machine between the guest's segments and the host endpoint.
 * Data flows through two bounded buffers (guest to host, and the ring host to guest), so a slow
 * side stops the other through the TCP windows rather than by buffering. The connection is its
 * own timer: the connect deadline while {@link TcpState#CONNECTING}, else the retransmission
 * timeout while anything is unacknowledged.
 */
final class TcpConnection extends Timer implements HostStream.Events {
    static final int MIN_RTO_MILLIS = 200;
    static final int MAX_RTO_MILLIS = 4000;
    static final int MAX_RETRANSMITS = 12;
    /** The largest TCP payload in one offloaded segment (a 64 KiB IPv4 packet with 20-byte headers). */
    private static final int MAX_GSO_PAYLOAD = 65535 - 40;

    private final Tcp tcp;
    private final TcpSender send;
    private final TcpBuffers buffers;
    final FlowKey key;
    /** Opened by us towards the guest (a published port); the host side is an accepted connection. */
    final boolean active;
    HostStream host;
    TcpState state;
    long lastActive;
    // guest to host
    /** The guest's initial sequence number; for a connection we open, known once its SYN-ACK arrives. */
    int irs;
    int rcvNxt;
    final HostQueue queue;
    boolean ackPending;
    /** Both sides said SACK-permitted (RFC 2018): our acknowledgements report what is held past a gap. */
    boolean sackPermitted;
    /** A duplicate the guest sent, reported once as a D-SACK block (RFC 2883); none when equal. */
    int dupStart, dupEnd;
    /** Waiting for room on the guest's link (see {@link Tcp#linkFull}). */
    boolean linkBlocked;
    /** Whether read interest is on at the host endpoint (a host socket is registered for reading once connected). */
    private boolean readingHost = true;
    boolean inDirty;
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
    final SendRing ring;
    /** The host side's stream ended: our FIN follows the ring's last byte. */
    boolean hostEof;
    int finSeq;
    int rtoMillis = MIN_RTO_MILLIS;
    int retries;
    int dupAcks;
    /** For a connection read from a previous version's description: its deadline's remaining nanoseconds, -1 for none. */
    long restoreDeadline = -1;

    TcpConnection(Tcp tcp, FlowKey key, boolean active, TcpState state, int irs, int iss) {
        this.tcp = tcp;
        this.send = tcp.sender;
        this.buffers = tcp.buffers;
        this.key = key;
        this.active = active;
        this.state = state;
        this.irs = irs;
        this.rcvNxt = irs + 1;
        this.iss = iss;
        this.sndUna = iss;
        this.sndNxt = iss;
        this.queue = new HostQueue(buffers);
        this.ring = new SendRing(buffers, iss + 1);
    }

    boolean closed() {
        return state == TcpState.CLOSED;
    }

    boolean readingHost() {
        return readingHost;
    }

    void readingHost(boolean on) {
        readingHost = on;
    }

    /**
     * The connection went to the next version of the stack, its host side with it: it leaves this
     * version's table, timers and buffers without a segment to the guest or a touch of the host side.
     */
    void letGo() {
        if (state == TcpState.CONNECTING) {
            tcp.halfOpen--;
        }
        release();
    }

    /** The label {@code net status} counts the connection under. */
    String label() {
        if (hostEof && state == TcpState.ESTABLISHED) {
            return "host-closed";
        }
        if (hostEof && state == TcpState.CLOSE_WAIT) {
            return "closing";
        }
        return state.label();
    }

    /**
     * What the guest's SYN (or SYN-ACK) offered, as {@link Tcp#synOptions} packs it: its segment size
     * (within ours), its window scale, whether it takes SACK; and its window.
     */
    void takeSynOptions(int synOptions, int window, boolean linkOffload) {
        int guestMss = synOptions & 0xffff;
        int scale = (synOptions >>> 16 & 0xf) - 1;
        sackPermitted = (synOptions & Tcp.SACK_PERMITTED) != 0;
        mss = Math.max(64, Math.min(guestMss, send.mss(key.family)));
        segmentLimit = linkOffload ? Math.max(mss, MAX_GSO_PAYLOAD / mss * mss) : mss;
        offload = segmentLimit > mss || linkOffload;
        windowScaling = scale >= 0;
        guestWindowScale = Math.max(0, scale);
        sndWnd = window;
    }

    /** The host side is connected: answer the guest's SYN. */
    void established() {
        state = TcpState.SYN_RECEIVED;
        sndNxt = iss + 1;
        send.syn(this);
        armRetransmit(System.nanoTime());
    }

    private void armRetransmit(long from) {
        tcp.loop.schedule(this, from + rtoMillis * 1_000_000L);
    }

    private void leaveConnecting() {
        if (state == TcpState.CONNECTING) {
            tcp.halfOpen--;
            state = TcpState.SYN_RECEIVED;
        }
    }

    // ---------------------------------------------------------------- segments from the guest

    /** The guest's answer to our SYN: a SYN-ACK establishes the connection, a reset refuses it. */
    void activeHandshake(int flags, int seq, int ack, int window, int synOptions, boolean linkOffload) {
        lastActive = System.nanoTime();
        if (state != TcpState.SYN_SENT) {
            // our ACK of its SYN-ACK was lost: acknowledge again
            if ((flags & RST) == 0) {
                send.ack(this);
            }
            return;
        }
        if ((flags & ACK) == 0) {
            return;
        }
        if (ack != iss + 1) {
            // not for our SYN (an old connection's segment): reset it as RFC 9293 says, our SYN is retransmitted
            if ((flags & RST) == 0) {
                send.reset(key, seq, ack, flags, 0);
            }
            return;
        }
        if ((flags & RST) != 0) {
            tcp.refusedByGuest++;
            abort(false);
            return;
        }
        if ((flags & SYN) == 0) {
            return;
        }
        irs = seq;
        rcvNxt = seq + 1;
        sndUna = ack;
        state = TcpState.ESTABLISHED;
        takeSynOptions(synOptions, window, linkOffload);
        retries = 0;
        rtoMillis = MIN_RTO_MILLIS;
        tcp.loop.cancel(this);
        send.ack(this);
        trySend();
    }

    void segment(int flags, int seq, int ack, int window, ByteBuffer f, int payload, int length) {
        lastActive = System.nanoTime();
        if ((flags & RST) != 0) {
            tcp.resetByGuest++;
            abort(false);
            return;
        }
        if ((flags & SYN) != 0) {
            if (seq == irs && state == TcpState.SYN_RECEIVED) {
                send.syn(this);
            }
            return;
        }
        if ((flags & ACK) == 0 || state == TcpState.CONNECTING) {
            return;
        }
        acknowledged(ack, window, flags, length);
        if (closed()) {
            return;
        }
        if (length > 0 || (flags & FIN) != 0) {
            if (seq != rcvNxt) {
                int skip = rcvNxt - seq;
                if (skip > 0 && skip < length) {
                    duplicate(seq, rcvNxt);
                    payload += skip;
                    length -= skip;
                } else if (skip < 0 && length > 0 && !state.guestFinished()) {
                    // past a gap (reordered on the guest's way, or a segment before it was lost): held
                    // until the gap fills, and the guest told at once where we stand and what we hold
                    if (queue.hold(f, payload, length, -skip)) {
                        tcp.outOfOrderHeld++;
                    } else {
                        tcp.stats.drop(Drop.TCP_OUT_OF_ORDER);
                    }
                    send.ack(this);
                    trySend();
                    return;
                } else {
                    if (skip <= 0) {
                        tcp.stats.drop(Drop.TCP_OUT_OF_ORDER);
                    } else {
                        duplicate(seq, seq + length);
                    }
                    send.ack(this);
                    trySend();
                    return;
                }
            }
            if (state.guestFinished()) {
                send.ack(this);
                return;
            }
            int accepted = length > 0 ? accept(f, payload, length) : 0;
            if (accepted < 0) {
                return;
            }
            if ((flags & FIN) != 0 && accepted == length) {
                rcvNxt++;
                state = state.onGuestFin();
            }
            ackPending = true;
            tcp.markDirty(this);
        }
        trySend();
        if (state.guestFinished() && queue.length == 0) {
            flushToHost();
        }
    }

    /** The guest sent {@code start} to {@code end} again: reported in the next acknowledgement when SACK is on. */
    private void duplicate(int start, int end) {
        if (sackPermitted) {
            dupStart = start;
            dupEnd = end;
        }
    }

    /** What an ACK (and window) from the guest says about what we sent. */
    private void acknowledged(int ack, int window, int flags, int length) {
        if (after(ack, sndUna) && !after(ack, sndNxt)) {
            if (state == TcpState.SYN_RECEIVED) {
                state = TcpState.ESTABLISHED;
            }
            int freed = ring.acknowledge(ack);
            tcp.bytesToGuest += Math.max(0, freed);
            if (state.finSent() && ack == finSeq + 1) {
                state = state.onFinAcknowledged();
            }
            sndUna = ack;
            dupAcks = 0;
            retries = 0;
            rtoMillis = MIN_RTO_MILLIS;
            if (sndNxt != sndUna) {
                armRetransmit(lastActive);
            } else {
                tcp.loop.cancel(this);
            }
            ring.releaseIfEmpty();
            sndWnd = (long) window << (windowScaling ? guestWindowScale : 0);
            if (freed > 0 && !readingHost && !hostEof) {
                readFromHost();
            }
        } else {
            sndWnd = (long) window << (windowScaling ? guestWindowScale : 0);
            if (ack == sndUna && length == 0 && (flags & FIN) == 0 && sndNxt != sndUna && ++dupAcks == 3) {
                sndNxt = sndUna;
                tcp.retransmits++;
            }
        }
    }

    /**
     * Takes the guest's in-order payload: straight into the host when nothing is queued or held, the
     * rest into the queue. Returns the bytes the next expected sequence number moved by (held bytes
     * the payload joined count too), -1 when the host failed.
     */
    private int accept(ByteBuffer f, int payload, int length) {
        int accepted = Math.min(length, queue.free());
        if (accepted < length) {
            tcp.stats.drop(Drop.TCP_WINDOW_FULL);
        }
        int written = 0;
        if (queue.empty()) {
            // nothing queued: straight from the frame into the host, no copy of ours
            int limit = f.limit();
            f.limit(payload + accepted).position(payload);
            try {
                written = host.write(f);
            } catch (IOException e) {
                tcp.resetByHost++;
                abort(true);
                return -1;
            } finally {
                f.limit(limit).position(0);
            }
            tcp.bytesToHost += written;
        }
        int joined = 0;
        if (written < accepted) {
            joined = queue.append(f, payload + written, accepted - written);
        }
        rcvNxt += accepted + joined;
        tcp.markDirty(this);
        return accepted + joined;
    }

    // ---------------------------------------------------------------- the host side

    private void readInterest(boolean on) {
        if (on != readingHost && !closed()) {
            readingHost = on;
            host.readInterest(on);
        }
    }

    @Override
    public void connected() {
        if (state != TcpState.CONNECTING) {
            return;
        }
        leaveConnecting();
        established();
    }

    @Override
    public void connectFailed(boolean refused) {
        if (state != TcpState.CONNECTING) {
            return;
        }
        leaveConnecting();
        if (refused) {
            tcp.refused++;
            send.reset(key, irs, 0, SYN, 0);
        } else {
            send.unreachable(this);
        }
        abort(false);
    }

    @Override
    public void readable() {
        readFromHost();
    }

    @Override
    public void writable() {
        if (closed()) {
            return;
        }
        flushToHost();
        if (!closed() && queue.length == 0) {
            send.ack(this);
        }
    }

    void readFromHost() {
        if (hostEof || closed() || state == TcpState.CONNECTING) {
            return;
        }
        int before = ring.length;
        SendRing.Fill fill;
        try {
            fill = ring.fill(host);
        } catch (IOException e) {
            tcp.resetByHost++;
            abort(true);
            return;
        }
        if (ring.length != before) {
            lastActive = System.nanoTime();
        }
        if (fill == SendRing.Fill.END_OF_STREAM) {
            hostEof = true;
        }
        readInterest(fill == SendRing.Fill.DRAINED);
        ring.releaseIfEmpty();
        trySend();
    }

    /** Writes what is queued towards the host; passes the guest's FIN on once nothing is. */
    void flushToHost() {
        if (queue.length > 0) {
            int before = queue.length;
            try {
                tcp.bytesToHost += queue.flush(host);
            } catch (IOException e) {
                tcp.resetByHost++;
                abort(true);
                return;
            }
            host.writeInterest(queue.length > 0);
            if (before - queue.length > 0 && before > buffers.limit / 2) {
                ackPending = true;
            }
        }
        if (queue.length == 0 && state.guestFinished()) {
            host.shutdownOutput();
            closeIfDone();
        }
    }

    // ---------------------------------------------------------------- segments to the guest

    void trySend() {
        if (!state.synchronizedState()) {
            return;
        }
        while (true) {
            int unsent = ring.end() - sndNxt;
            if (unsent <= 0) {
                break;
            }
            long available = sndWnd - (sndNxt - sndUna);
            if (available <= 0) {
                break;
            }
            int n = (int) Math.min(Math.min(unsent, segmentLimit), available);
            if (!send.data(this, sndNxt, n, n == unsent ? ACK | PSH : ACK)) {
                tcp.linkFull(this); // not sent: goes again when the link drains, without counting as a loss
                break;
            }
            sndNxt += n;
        }
        if (hostEof && sndNxt == ring.end() && (!state.finSent() || sndNxt == finSeq)
                && send.flags(this, FIN | ACK, sndNxt)) {
            state = state.onFinSent();
            finSeq = sndNxt;
            sndNxt++;
        }
        if (!scheduled() && (sndNxt != sndUna || ring.end() != sndNxt)) {
            armRetransmit(System.nanoTime());
        }
        closeIfDone();
    }

    // ---------------------------------------------------------------- timers and teardown

    @Override
    protected void expired(long now) {
        if (closed()) {
            return;
        }
        if (state == TcpState.CONNECTING) {
            tcp.timedOut++;
            leaveConnecting();
            send.unreachable(this);
            abort(false);
            return;
        }
        if (++retries > MAX_RETRANSMITS) {
            abort(true);
            return;
        }
        tcp.retransmits++;
        rtoMillis = Math.min(MAX_RTO_MILLIS, rtoMillis * 2);
        armRetransmit(now);
        if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED) {
            send.syn(this);
            return;
        }
        sndNxt = sndUna;
        int unsent = ring.end() - sndNxt;
        if (unsent > 0 && sndWnd == 0) {
            // zero-window probe: one byte past the window
            send.data(this, sndNxt, 1, ACK);
            sndNxt++;
        } else if (unsent > 0 && sndWnd < Math.min(unsent, mss)) {
            int n = Math.min(unsent, mss);
            send.data(this, sndNxt, n, ACK | PSH);
            sndNxt += n;
        }
        trySend();
    }

    private void closeIfDone() {
        if (state == TcpState.TIME_WAIT && queue.length == 0) {
            tcp.closedNormally++;
            release();
            host.shutdownOutput(); // the guest's FIN may have come with the ACK of ours: pass it on before closing
            host.close();
        }
    }

    /** Tears the connection down at once: a reset to the guest if asked, the host side aborted always. */
    void abort(boolean resetGuest) {
        if (closed()) {
            return;
        }
        if (resetGuest && state != TcpState.CONNECTING) {
            send.rst(key, sndNxt, rcvNxt, RST | ACK);
        }
        leaveConnecting();
        release();
        if (host != null) {
            host.abort();
        }
    }

    private void release() {
        state = TcpState.CLOSED;
        tcp.loop.cancel(this);
        tcp.remove(this);
        queue.release();
        ring.release();
    }

    private static boolean after(int a, int b) {
        return a - b > 0;
    }
}
