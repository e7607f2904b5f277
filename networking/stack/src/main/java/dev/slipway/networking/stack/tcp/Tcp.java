package dev.slipway.networking.stack.tcp;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.host.HostConnector;
import dev.slipway.networking.stack.host.HostEndpoints;
import dev.slipway.networking.stack.host.HostStream;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.ProtocolInput;
import dev.slipway.networking.stack.ip.Unreachable;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.loop.Timer;

/**
 * TCP: the guest's peer for every connection it opens, and the opener of the connections
 * published ports make to the guest. A guest SYN opens a host endpoint (see {@link HostConnector});
 * the handshake completes towards the guest only once the endpoint is connected. Each connection
 * is a {@link TcpConnection} state machine; this class keeps the table, demultiplexes segments of
 * either family and enforces the limits.
 *
 * <p>Hand-written: no Java library terminates TCP from raw segments on a caller-owned frame path.
 */
public final class Tcp implements ProtocolInput {
    private static final Logger LOG = LoggerFactory.getLogger(Tcp.class);
    /** The TCP header's flag bits. */
    public static final int FIN = TcpSender.FIN, SYN = TcpSender.SYN, RST = TcpSender.RST, PSH = TcpSender.PSH, ACK = TcpSender.ACK;
    /** In {@link #synOptions}: the SYN carried SACK-permitted. */
    static final int SACK_PERMITTED = 1 << 20;
    final NetConfig config;
    final Stats stats;
    final EventLoop loop;
    final TcpSender sender;
    final TcpBuffers buffers;
    private final HostConnector endpoints;
    private final HashMap<FlowKey, TcpConnection> table = new HashMap<>();
    private final FlowKey probe = new FlowKey();
    private final ArrayList<TcpConnection> dirty = new ArrayList<>();
    private final ArrayList<TcpConnection> scratch = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom();
    /** Connections with something the full link did not take; retried when {@link #resumeTimer} fires. */
    private ArrayList<TcpConnection> blocked = new ArrayList<>();
    private ArrayList<TcpConnection> retrying = new ArrayList<>();
    private final Timer resumeTimer = new Timer() {
        @Override
        protected void expired(long now) {
            resume();
        }
    };
    private final Timer idleTimer = new Timer() {
        @Override
        protected void expired(long now) {
            expireIdle(now);
        }
    };
    /** How soon a segment the full link did not take is tried again. */
    private static final long LINK_RETRY_NANOS = 1_000_000L;
    int halfOpen;
    long opened, refused, timedOut, resetByGuest, resetByHost, closedNormally, idleClosed, retransmits;
    long bytesToHost, bytesToGuest, segmentsFromGuest;
    long activeOpened, refusedByGuest, outOfOrderHeld;
    private int nextActivePort = 49152 + new SplittableRandom().nextInt(16384);
    private final int isnSecret = new SplittableRandom().nextInt();

    public Tcp(NetConfig config, Stats stats, EventLoop loop, IpOutput output, HostConnector endpoints) {
        this.config = config;
        this.stats = stats;
        this.loop = loop;
        this.endpoints = endpoints;
        this.buffers = new TcpBuffers(config.tcpBufferBytes());
        this.sender = new TcpSender(output, this);
    }

    // ---------------------------------------------------------------- segments from the guest

    @Override
    public void input(PacketContext p, ByteBuffer f) {
        int off = p.l4Offset;
        int len = p.l4Length;
        if (len < 20) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int dataOffset = (f.get(off + 12) >> 4 & 15) * 4;
        if (dataOffset < 20 || dataOffset > len) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (!p.checksumPending && Checksum.fold(Checksum.sum(f, off, len, p.pseudoHeader(len))) != 0) {
            stats.drop(Drop.BAD_TCP_CHECKSUM);
            return;
        }
        segmentsFromGuest++;
        int srcPort = f.getShort(off) & 0xffff;
        int dstPort = f.getShort(off + 2) & 0xffff;
        int seq = f.getInt(off + 4);
        int ack = f.getInt(off + 8);
        int flags = f.get(off + 13) & 0x3f;
        int window = f.getShort(off + 14) & 0xffff;
        TcpConnection c = table.get(probe.set(p, srcPort, dstPort));
        if (c != null && c.active && ((flags & SYN) != 0 || c.state == TcpState.SYN_SENT)) {
            c.activeHandshake(flags, seq, ack, window, synOptions(f, off, dataOffset), p.linkOffload);
            return;
        }
        if (c == null) {
            if ((flags & RST) != 0) {
                return;
            }
            if ((flags & (SYN | ACK)) == SYN) {
                open(p, f, srcPort, dstPort, seq, window, synOptions(f, off, dataOffset));
                return;
            }
            stats.drop(Drop.TCP_NO_CONNECTION);
            sender.reset(probe, seq, ack, flags, len - dataOffset);
            return;
        }
        c.segment(flags, seq, ack, window, f, off + dataOffset, len - dataOffset);
    }

    /** Answers a segment to a refused destination (cloud metadata) with a reset. */
    @Override
    public void refuse(PacketContext p, ByteBuffer f) {
        int off = p.l4Offset;
        if (p.l4Length < 20) {
            return;
        }
        int flags = f.get(off + 13) & 0x3f;
        if ((flags & RST) == 0) {
            int dataOffset = (f.get(off + 12) >> 4 & 15) * 4;
            probe.set(p, f.getShort(off) & 0xffff, f.getShort(off + 2) & 0xffff);
            sender.reset(probe, f.getInt(off + 4), f.getInt(off + 8), flags, Math.max(0, p.l4Length - dataOffset));
        }
    }

    /**
     * The MSS, window scale and SACK-permitted a SYN announces, packed without allocating: MSS in the
     * low 16 bits (536 when absent), window scale + 1 in the 4 bits above them (0 when absent), then
     * {@link #SACK_PERMITTED}.
     */
    static int synOptions(ByteBuffer f, int off, int dataOffset) {
        int mss = 536;
        int scale = -1;
        int sack = 0;
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
            } else if (kind == 4 && olen == 2) {
                sack = SACK_PERMITTED;
            }
            i += olen;
        }
        return sack | (scale + 1) << 16 | mss;
    }

    private void open(PacketContext p, ByteBuffer f, int srcPort, int dstPort, int seq, int window, int options) {
        if (table.size() >= config.maxTcpConnections()) {
            stats.drop(Drop.TCP_CONNECTION_LIMIT);
            return;
        }
        if (halfOpen >= config.maxHalfOpenConnections()) {
            stats.drop(Drop.TCP_HALF_OPEN_LIMIT);
            return;
        }
        FlowKey key = new FlowKey().set(p, srcPort, dstPort);
        TcpConnection c = new TcpConnection(this, key, false, TcpState.CONNECTING, seq, random.nextInt());
        c.takeSynOptions(options, window, p.linkOffload);
        c.lastActive = System.nanoTime();
        HostStream host;
        try {
            host = endpoints.openStream(key, p.destination, c);
        } catch (ConnectException e) {
            host = null;
        } catch (IOException e) {
            sender.output().unreachable(p, f, Unreachable.HOST);
            return;
        }
        if (host == null) {
            refused++;
            sender.reset(key, seq, 0, SYN, 0);
            return;
        }
        c.host = host;
        table.put(key, c);
        opened++;
        armIdleTimer();
        if (host.connecting()) {
            halfOpen++;
            loop.schedule(c, System.nanoTime() + config.tcpConnectTimeoutMillis() * 1_000_000L);
        } else {
            c.established();
        }
    }

    /**
     * Opens a connection to {@code guestIp:guestPort} from {@code srcIp} (an address of ours) for an
     * accepted host connection: our SYN goes to the guest, the host side is read at once (its bytes
     * wait in the ring until the guest's SYN-ACK) and both directions then run through the same
     * windows, retransmission and teardown as connections the guest opens. Lock held.
     *
     * @return false when the connection table is full (the caller closes the host side)
     */
    public boolean openToGuest(SocketChannel channel, int srcIp, int guestIp, int guestPort) throws IOException {
        return openToGuest(channel, new FlowKey().set(guestIp, guestPort, srcIp, 0));
    }

    /** As {@link #openToGuest(SocketChannel, int, int, int)} for either family: {@code flow}'s destination port is chosen here. */
    public boolean openToGuest(SocketChannel channel, FlowKey flow) throws IOException {
        if (table.size() >= config.maxTcpConnections()) {
            stats.drop(Drop.TCP_CONNECTION_LIMIT);
            return false;
        }
        FlowKey key = flow.copy();
        for (int tries = 0; ; tries++) {
            // ports in turn, so one comes back as late as possible (the guest may keep the last use in TIME-WAIT)
            nextActivePort = nextActivePort >= 65535 ? 49152 : nextActivePort + 1;
            key.dstPort = nextActivePort;
            if (!table.containsKey(key)) {
                break;
            }
            if (tries > 16384) {
                return false;
            }
        }
        TcpConnection c = new TcpConnection(this, key, true, TcpState.SYN_SENT, 0, activeIss(key));
        c.mss = sender.mss(key.family);
        c.segmentLimit = c.mss;
        c.windowScaling = true;
        c.sackPermitted = true; // offered in our SYN; the guest's SYN-ACK says whether it stays on
        c.lastActive = System.nanoTime();
        c.host = endpoints.accepted(channel, c);
        table.put(key, c);
        opened++;
        activeOpened++;
        armIdleTimer();
        c.sndNxt = c.iss + 1;
        sender.syn(c);
        loop.schedule(c, System.nanoTime() + c.rtoMillis * 1_000_000L);
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

    // ---------------------------------------------------------------- batches, timers, teardown

    void markDirty(TcpConnection c) {
        if (!c.inDirty) {
            c.inDirty = true;
            dirty.add(c);
        }
    }

    /** The end of a batch of frames or of a loop step: write what the guests sent to the host, then acknowledge it. */
    public void flush() {
        for (int i = 0; i < dirty.size(); i++) {
            TcpConnection c = dirty.get(i);
            c.inDirty = false;
            if (c.closed()) {
                continue;
            }
            c.flushToHost();
            if (!c.closed() && c.ackPending) {
                sender.ack(c);
            }
        }
        dirty.clear();
    }

    /**
     * The guest's link did not take a segment of {@code c}: try again shortly. The link gives no
     * signal when it drains, so the retry is a short deadline, armed only while something waits.
     */
    void linkFull(TcpConnection c) {
        if (!c.linkBlocked) {
            c.linkBlocked = true;
            blocked.add(c);
        }
        armResume();
    }

    void armResume() {
        if (!resumeTimer.scheduled()) {
            loop.schedule(resumeTimer, System.nanoTime() + LINK_RETRY_NANOS);
        }
    }

    private void resume() {
        if (!sender.resendResets()) {
            armResume();
            return;
        }
        ArrayList<TcpConnection> now = blocked;
        blocked = retrying;
        retrying = now;
        for (int i = 0; i < now.size(); i++) {
            TcpConnection c = now.get(i);
            c.linkBlocked = false;
            if (c.closed()) {
                continue;
            }
            c.trySend(); // any segment carries the pending acknowledgement
            if (!c.closed() && c.ackPending && !c.linkBlocked) {
                sender.ack(c);
            }
        }
        now.clear();
    }

    /** The connection of flow {@code k}, or null. */
    TcpConnection connection(FlowKey k) {
        return table.get(k);
    }

    void remove(TcpConnection c) {
        table.remove(c.key);
    }

    /** Keeps the idle sweep armed while connections are open: a deadline, never a tick. */
    private void armIdleTimer() {
        if (!idleTimer.scheduled()) {
            loop.schedule(idleTimer, System.nanoTime() + idleNanos() + 1);
        }
    }

    private long idleNanos() {
        return config.tcpIdleTimeoutSeconds() * 1_000_000_000L;
    }

    /** Closes the connections idle past the timeout; sweeps again when the next one could be (at most once a second). */
    void expireIdle(long now) {
        long idle = idleNanos();
        scratch.clear();
        long oldest = now;
        for (TcpConnection c : table.values()) {
            if (now - c.lastActive > idle) {
                scratch.add(c);
            } else if (c.lastActive - oldest < 0) {
                oldest = c.lastActive;
            }
        }
        for (int i = 0; i < scratch.size(); i++) {
            idleClosed++;
            scratch.get(i).abort(true);
        }
        scratch.clear();
        if (!table.isEmpty()) {
            loop.schedule(idleTimer, Math.max(oldest + idle + 1, now + 1_000_000_000L));
        }
    }

    public void closeAll() {
        scratch.clear();
        scratch.addAll(table.values());
        for (TcpConnection c : scratch) {
            c.abort(true);
        }
        scratch.clear();
        loop.cancel(idleTimer);
    }

    /** What {@link #handOver} let go of: the connections' descriptions, their reset records, and how many it reset instead. */
    public record HandedOver(List<Map<String, Object>> connections, List<long[]> resetRecords, int reset) {}

    /**
     * Lets go of every connection for the next version of the stack ({@link TcpHandover}): those
     * whose host side can be handed over are described and leave without a segment; the rest (a
     * DNS stream with a query in flight) are reset as by {@link #closeAll()}. Lock held, the loop
     * stopped.
     */
    public HandedOver handOver(long now) {
        List<Map<String, Object>> connections = new ArrayList<>();
        List<long[]> records = new ArrayList<>();
        int reset = 0;
        scratch.clear();
        scratch.addAll(table.values());
        for (TcpConnection c : scratch) {
            if (c.closed()) {
                continue;
            }
            Map<String, Object> description = null;
            Object host = null;
            try {
                host = c.host == null ? null : c.host.handOver();
                description = host == null ? null : TcpHandover.describe(c, host, now);
            } catch (RuntimeException e) {
                LOG.warn("a guest TCP connection could not be described for the next version: reset", e);
            }
            if (description == null) {
                reset++;
                HostEndpoints.discard(host); // let go of already: reset here
                c.abort(true);
                continue;
            }
            connections.add(description);
            records.add(TcpHandover.resetRecord(c));
            c.letGo();
        }
        scratch.clear();
        dirty.clear();
        blocked.clear();
        loop.cancel(idleTimer);
        loop.cancel(resumeTimer);
        return new HandedOver(connections, records, reset);
    }

    /**
     * Goes on with the connections a previous version handed over ({@link #handOver}); lock held.
     * A description this version cannot take is reset (the guest gets RST, the host socket a
     * reset) and named in {@code failures}.
     *
     * @return how many connections were taken
     */
    public int adopt(List<?> descriptions, List<String> failures) {
        long now = System.nanoTime();
        List<TcpConnection> adopted = new ArrayList<>();
        for (Object d : descriptions) {
            if (!(d instanceof Map<?, ?> m)) {
                failures.add("a TCP connection description of type " + (d == null ? "null" : d.getClass().getName()));
                continue;
            }
            TcpConnection c;
            try {
                c = TcpHandover.read(this, m, now);
                if (table.containsKey(c.key) || table.size() >= config.maxTcpConnections()) {
                    throw new IOException(table.containsKey(c.key) ? "its flow is taken" : "the connection table is full");
                }
                TcpHandover.adoptHost(c, m, endpoints);
            } catch (IOException | RuntimeException e) {
                failures.add("TCP connection: " + e.getMessage());
                HostEndpoints.discard(m.get(TcpHandover.HOST));
                if (m.get(TcpHandover.FLOW) instanceof long[] flow && m.get(TcpHandover.SND_NXT) instanceof Integer seq
                        && m.get(TcpHandover.RCV_NXT) instanceof Integer ack) {
                    try {
                        sender.rst(TcpHandover.flow(flow), seq, ack, RST | ACK);
                    } catch (IOException notAFlow) {
                        // nothing to reset
                    }
                }
                continue;
            }
            table.put(c.key, c);
            if (c.state == TcpState.CONNECTING) {
                halfOpen++;
            }
            if (c.restoreDeadline >= 0) {
                loop.schedule(c, now + c.restoreDeadline);
            }
            adopted.add(c);
        }
        if (!table.isEmpty()) {
            armIdleTimer();
        }
        toResume.addAll(adopted);
        return adopted.size();
    }

    /** Connections taken over whose first segments wait until the links are attached ({@link #resumeAdopted()}). */
    private final ArrayList<TcpConnection> toResume = new ArrayList<>();

    /**
     * Once the links are attached: the taken-over connections send what they owe the guest (bytes
     * within its window, a pending acknowledgement) and read their host sides again. Lock held.
     */
    public void resumeAdopted() {
        for (TcpConnection c : toResume) {
            if (c.closed()) {
                continue;
            }
            if (c.queue.length > 0 || c.ackPending) {
                markDirty(c);
            }
            // the host side may have made room or sent bytes while its signals still went to the old version
            if (c.queue.length > 0 && c.host != null && !c.host.connecting()) {
                c.flushToHost();
                if (c.closed()) {
                    continue;
                }
            }
            c.readFromHost();
            if (!c.closed()) {
                c.trySend();
            }
        }
        toResume.clear();
        flush();
    }

    /**
     * Resets connections a previous version handed over in a layout this version does not read,
     * from their {@link TcpHandover#resetRecord reset records}: the guest gets RST at once. Lock held.
     *
     * @return how many resets went out
     */
    public int resetHandedOver(List<?> records) {
        List<long[]> resets = TcpHandover.resets(records);
        for (long[] r : resets) {
            try {
                sender.rst(TcpHandover.flow(r), (int) r[7], (int) r[8], RST | ACK);
            } catch (IOException notAFlow) {
                // skipped by resets()
            }
        }
        return resets.size();
    }

    public int size() {
        return table.size();
    }

    public int halfOpen() {
        return halfOpen;
    }

    public long buffersInUse() {
        return buffers.inUse();
    }

    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Integer> byState = new LinkedHashMap<>();
        for (TcpConnection c : table.values()) {
            byState.merge(c.label(), 1, Integer::sum);
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
        m.put("outOfOrderHeld", outOfOrderHeld);
        m.put("refusedByGuest", refusedByGuest);
        m.put("bytesToHost", bytesToHost);
        m.put("bytesToGuest", bytesToGuest);
        m.put("segmentsFromGuest", segmentsFromGuest);
        m.put("segmentsToGuest", sender.segmentsToGuest);
        m.put("resetsDelayedByFullLink", sender.resetsDelayed);
        m.put("buffersInUse", buffers.inUse());
        return m;
    }
}
