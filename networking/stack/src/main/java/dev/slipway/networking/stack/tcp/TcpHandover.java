package dev.slipway.networking.stack.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.slipway.networking.stack.host.HostConnector;
import dev.slipway.networking.stack.ip.FlowKey;

/**
 * A TCP connection as the next version of the stack takes it: a map of JDK types (numbers,
 * booleans, byte arrays, the host side's own description), so neither version needs the other's
 * classes. The layout is {@link #FORMAT}; a version that reads another refuses the flows and
 * resets them from {@link #resetRecord}s, whose layout never changes.
 *
 * <p>What a connection carries: its flow, who opened it, its state, both sides' sequence numbers
 * (initial, next, unacknowledged), the guest's window, window scale and MSS, the segment size and
 * offload in use, the bytes waiting in each direction (the guest's not yet taken by the host, the
 * host's not yet acknowledged by the guest, from the oldest unacknowledged one), the host side's
 * end of stream and our FIN's place, the retransmission state (timeout, retries, duplicate ACKs)
 * and, as remaining durations, the connection's deadline (retransmission, or the connect deadline
 * while the host side connects) and how long it has been idle; whether SACK was agreed and the
 * guest's bytes held past a gap (already reported to the guest in SACK blocks, so they are kept
 * rather than reneged on); for a connection to an address behind a guest, that guest's address. The stack runs no keepalive timer, so there is none to carry.
 */
public final class TcpHandover {
    /** The layout of a connection's description. */
    public static final int FORMAT = 1;

    static final String FLOW = "flow", ACTIVE = "active", STATE = "state", IRS = "irs", RCV_NXT = "rcvNxt", ISS = "iss",
            SND_UNA = "sndUna", SND_NXT = "sndNxt", SND_WND = "sndWnd", WINDOW_SCALE = "guestWindowScale",
            WINDOW_SCALING = "windowScaling", MSS = "mss", SEGMENT_LIMIT = "segmentLimit", OFFLOAD = "offload",
            HOST_EOF = "hostEof", FIN_SEQ = "finSeq", RTO = "rtoMillis", RETRIES = "retries", DUP_ACKS = "dupAcks",
            ACK_PENDING = "ackPending", READING_HOST = "readingHost", TO_HOST = "toHost", TO_GUEST = "toGuest",
            TO_GUEST_SEQ = "toGuestSeq", SACK = "sackPermitted", HELD_RANGES = "heldRanges", HELD = "held", DEADLINE_IN = "deadlineInNanos", IDLE_FOR = "idleForNanos",
            NEXT_HOP = "nextHop4";
    /** The host side's own description ({@link dev.slipway.networking.stack.host.HostStream#handOver()}). */
    public static final String HOST = "host";

    private TcpHandover() {
    }

    /** A flow as {@code {family, guestHi, guestLo, guestPort, dstHi, dstLo, dstPort}}. */
    static long[] flow(FlowKey k) {
        return k.toLongs();
    }

    static FlowKey flow(long[] f) throws IOException {
        FlowKey k = FlowKey.fromLongs(f);
        if (k == null) {
            throw new IOException("not a flow");
        }
        return k;
    }

    /**
     * What resets a handed-over connection from the guest's side whatever the format:
     * {@code {family, guestHi, guestLo, guestPort, dstHi, dstLo, dstPort, seq, ack}}, the segment's
     * sequence number being the next one we would send and its acknowledgement the next one we expect.
     */
    static long[] resetRecord(TcpConnection c) {
        long[] r = new long[9];
        System.arraycopy(flow(c.key), 0, r, 0, 7);
        r[7] = c.sndNxt & 0xffff_ffffL;
        r[8] = c.rcvNxt & 0xffff_ffffL;
        return r;
    }

    /** The connection's description, its host side already let go ({@code host}); lock held. */
    static Map<String, Object> describe(TcpConnection c, Object host, long now) {
        Map<String, Object> m = new HashMap<>();
        m.put(FLOW, flow(c.key));
        m.put(NEXT_HOP, c.key.nextHop4);
        m.put(ACTIVE, c.active);
        m.put(STATE, c.state.name());
        m.put(IRS, c.irs);
        m.put(RCV_NXT, c.rcvNxt);
        m.put(ISS, c.iss);
        m.put(SND_UNA, c.sndUna);
        m.put(SND_NXT, c.sndNxt);
        m.put(SND_WND, c.sndWnd);
        m.put(WINDOW_SCALE, c.guestWindowScale);
        m.put(WINDOW_SCALING, c.windowScaling);
        m.put(MSS, c.mss);
        m.put(SEGMENT_LIMIT, c.segmentLimit);
        m.put(OFFLOAD, c.offload);
        m.put(HOST_EOF, c.hostEof);
        m.put(FIN_SEQ, c.finSeq);
        m.put(RTO, c.rtoMillis);
        m.put(RETRIES, c.retries);
        m.put(DUP_ACKS, c.dupAcks);
        m.put(ACK_PENDING, c.ackPending);
        m.put(READING_HOST, c.readingHost());
        m.put(TO_HOST, c.queue.copy());
        m.put(TO_GUEST, c.ring.copy());
        m.put(TO_GUEST_SEQ, c.ring.seq);
        m.put(SACK, c.sackPermitted);
        m.put(HELD_RANGES, c.queue.heldRanges());
        m.put(HELD, c.queue.copyHeld());
        m.put(DEADLINE_IN, c.scheduled() ? Math.max(0, c.deadline() - now) : -1L);
        m.put(IDLE_FOR, Math.max(0, now - c.lastActive));
        m.put(HOST, host);
        return Map.copyOf(m);
    }

    /**
     * Reads a description back into a connection of {@code tcp}, without touching anything yet:
     * the caller adopts the host side and enters the connection in its table.
     *
     * @throws IOException when the description is not one this version reads
     */
    static TcpConnection read(Tcp tcp, Map<?, ?> m, long now) throws IOException {
        FlowKey key = flow(get(m, FLOW, long[].class));
        // absent from a version without routed flows: the flow's guest is then on the guest network
        if (m.get(NEXT_HOP) instanceof Integer nextHop) {
            key.nextHop4 = nextHop;
        }
        TcpState state;
        try {
            state = TcpState.valueOf(get(m, STATE, String.class));
        } catch (IllegalArgumentException e) {
            throw new IOException("unknown TCP state " + m.get(STATE));
        }
        if (state == TcpState.CLOSED) {
            throw new IOException("a closed connection");
        }
        byte[] toHost = get(m, TO_HOST, byte[].class);
        byte[] toGuest = get(m, TO_GUEST, byte[].class);
        if (toHost.length > tcp.buffers.limit || toGuest.length > tcp.buffers.limit) {
            throw new IOException("buffered bytes beyond this version's window (" + tcp.buffers.limit + ")");
        }
        int iss = get(m, ISS, Integer.class);
        TcpConnection c = new TcpConnection(tcp, key, get(m, ACTIVE, Boolean.class), state, get(m, IRS, Integer.class), iss);
        c.rcvNxt = get(m, RCV_NXT, Integer.class);
        c.sndUna = get(m, SND_UNA, Integer.class);
        c.sndNxt = get(m, SND_NXT, Integer.class);
        c.sndWnd = get(m, SND_WND, Long.class);
        c.guestWindowScale = get(m, WINDOW_SCALE, Integer.class);
        c.windowScaling = get(m, WINDOW_SCALING, Boolean.class);
        c.mss = get(m, MSS, Integer.class);
        c.segmentLimit = get(m, SEGMENT_LIMIT, Integer.class);
        c.offload = get(m, OFFLOAD, Boolean.class);
        c.hostEof = get(m, HOST_EOF, Boolean.class);
        c.finSeq = get(m, FIN_SEQ, Integer.class);
        c.rtoMillis = get(m, RTO, Integer.class);
        c.retries = get(m, RETRIES, Integer.class);
        c.dupAcks = get(m, DUP_ACKS, Integer.class);
        c.ackPending = get(m, ACK_PENDING, Boolean.class);
        c.readingHost(get(m, READING_HOST, Boolean.class));
        c.lastActive = now - get(m, IDLE_FOR, Long.class);
        c.restoreDeadline = get(m, DEADLINE_IN, Long.class);
        if (c.mss < 64 || c.segmentLimit < c.mss || c.rtoMillis <= 0) {
            throw new IOException("segment size " + c.mss + "/" + c.segmentLimit + " or timeout " + c.rtoMillis + " out of range");
        }
        if (toHost.length > 0) {
            c.queue.append(ByteBuffer.wrap(toHost), 0, toHost.length);
        }
        c.sackPermitted = get(m, SACK, Boolean.class);
        restoreHeld(c, get(m, HELD_RANGES, int[].class), get(m, HELD, byte[].class));
        c.ring.restore(toGuest, get(m, TO_GUEST_SEQ, Integer.class));
        if (!m.containsKey(HOST)) {
            throw new IOException("no host side");
        }
        return c;
    }

    /** Holds again what the previous version held past a gap; ranges must be sorted, disjoint and within {@code held}. */
    private static void restoreHeld(TcpConnection c, int[] ranges, byte[] held) throws IOException {
        if (ranges.length % 2 != 0 || ranges.length / 2 > HostQueue.MAX_HELD_RANGES) {
            throw new IOException("held ranges malformed or more than " + HostQueue.MAX_HELD_RANGES);
        }
        int previousEnd = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            int start = ranges[i], end = ranges[i + 1];
            if (start <= previousEnd || end <= start || end > held.length) {
                throw new IOException("held range " + start + "-" + end + " out of order or past the held bytes");
            }
            if (!c.queue.hold(ByteBuffer.wrap(held), start, end - start, start)) {
                throw new IOException("held range " + start + "-" + end + " beyond this version's window");
            }
            previousEnd = end;
        }
    }

    private static <T> T get(Map<?, ?> m, String name, Class<T> type) throws IOException {
        Object v = m.get(name);
        if (!type.isInstance(v)) {
            throw new IOException("item " + name + " missing or not a " + type.getSimpleName());
        }
        return type.cast(v);
    }

    /** Adopts the host side of a read connection through {@code host}. */
    static void adoptHost(TcpConnection c, Map<?, ?> m, HostConnector host) throws IOException {
        c.host = host.adopt(m.get(HOST), c.key, c);
    }

    /** Flows of resets, read from {@link #resetRecord}s; records that are not one are skipped. */
    static List<long[]> resets(List<?> records) {
        List<long[]> out = new ArrayList<>();
        for (Object o : records) {
            if (o instanceof long[] r && r.length >= 9 && (r[0] == 4 || r[0] == 6)) {
                out.add(r);
            }
        }
        return out;
    }
}
