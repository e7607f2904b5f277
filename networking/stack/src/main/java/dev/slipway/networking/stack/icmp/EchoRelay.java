package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.ip.Checksum;

/**
 * ICMP echo to any destination: the guest's echo requests are sent from the host's unprivileged
 * ping sockets (one per guest address, destination and identifier: a flow), and the replies and
 * the errors the kernel queues on those sockets (TTL exceeded, unreachable) go back to the guest
 * with the guest's identifier, for the kernel gives every ping socket an identifier of its own.
 *
 * <p>Family-neutral: addresses are two longs (IPv4 in the low 32 bits of {@code lo}). Bounded: at
 * most {@code maxFlows} flows, each closed after {@code idleNanos} without traffic. Where the host
 * forbids ping sockets the relay says so once in the log and in {@link #status()}, and declines
 * (the IP layer then answers only its own addresses, as before). Called by one thread at a time
 * (the stack's lock); after a flow opened, relaying allocates nothing.
 */
public final class EchoRelay implements AutoCloseable {
    public static final int DEFAULT_MAX_FLOWS = 64;
    public static final long DEFAULT_IDLE_NANOS = 30_000_000_000L;
    static final long FORBIDDEN_RECHECK_NANOS = 60_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(EchoRelay.class);
    private static final int MAX_MESSAGE = 65535;
    private static final int RECEIVES_PER_READY = 64;
    /** RFC 4443: an ICMPv6 error quotes as much as fits in the minimum MTU. */
    private static final int MAX_V6_QUOTE = 1280 - 40 - 8 - 40;
    private static final int ECHO_REQUEST = 8;
    private static final int ECHO_REPLY = 0;
    private static final int ECHO_REQUEST_V6 = 128;
    private static final int ECHO_REPLY_V6 = 129;

    private final PingSockets sockets;
    private final String unavailable;
    private final IcmpOutput output;
    private final CidrList refused;
    private final int gateway4;
    private long gateway6Hi;
    private long gateway6Lo;
    private final Flow[] flows;
    private final long idleNanos;
    private final ByteBuffer message = ByteBuffer.allocateDirect(MAX_MESSAGE);
    private final ByteBuffer built = ByteBuffer.allocateDirect(8 + 40 + MAX_V6_QUOTE);
    private final PingReceipt receipt = new PingReceipt();
    private final int[] readyTokens = new int[64];
    /** Told the deadline by which {@link #expire} should run when a flow opens; the event loop's timer. */
    private LongConsumer expiryWanted = deadline -> { };
    /** How many bytes of {@link #message} hold the request (or, after an error, the part of it quoted back). */
    private int messageLength;
    private int flowCount;
    private String forbidden;
    private long forbiddenSince;
    private boolean forbiddenLogged;
    private int openFailuresLogged;
    private long requests;
    private long replies;
    private long errorsRelayed;
    private long unreachableSent;
    private long refusedCount;
    private long invalidDestinations;
    private long flowLimitDrops;
    private long sendFailures;
    private long openFailures;
    private long expired;
    private long ignored;

    /**
     * A relay over {@code sockets}, or one that always declines when {@code sockets} is null
     * ({@code unavailable} says why). Probes at once whether ping sockets may be opened.
     */
    public EchoRelay(PingSockets sockets, String unavailable, IcmpOutput output, CidrList refused, int gateway4,
            int maxFlows, long idleNanos, long now) {
        if (maxFlows < 1 || maxFlows > 4096) {
            throw new IllegalArgumentException("the ICMP echo flow limit is 1 to 4096, not " + maxFlows);
        }
        if (idleNanos <= 0) {
            throw new IllegalArgumentException("the ICMP echo idle timeout must be positive");
        }
        this.sockets = sockets;
        this.unavailable = sockets == null ? (unavailable == null ? "no ping sockets on this platform" : unavailable) : null;
        this.output = output;
        this.refused = refused;
        this.gateway4 = gateway4;
        this.flows = new Flow[maxFlows];
        this.idleNanos = idleNanos;
        if (sockets == null) {
            LOG.info("ICMP echo reaches only the gateway and the host alias: {}", this.unavailable);
        } else {
            probe(now);
        }
    }

    /** The gateway's IPv6 address: the source of the unreachable messages the relay makes itself. */
    public void gateway6(long hi, long lo) {
        gateway6Hi = hi;
        gateway6Lo = lo;
    }

    /** Where the relay asks for {@link #expire} to run: by the given deadline, once a flow opened. */
    public void expiryWanted(LongConsumer wakeAt) {
        expiryWanted = wakeAt;
    }

    /** The channel the event loop watches for replies and errors, or null when there is none. */
    public SelectableChannel readiness() {
        return sockets == null ? null : sockets.readiness();
    }

    /** Why echo requests to other addresses are not relayed, or null when they are. */
    public String declines() {
        return unavailable != null ? unavailable : forbidden;
    }

    private void probe(long now) {
        try {
            sockets.open(false, -1).close();
        } catch (PingSocketsForbidden e) {
            forbid(e, now);
        } catch (IOException e) {
            LOG.warn("cannot open a ping socket to check that ICMP echo can be relayed: {}", e.getMessage());
        }
    }

    /**
     * Relays the guest's IPv4 echo request (the ICMP message at {@code [icmpOffset, icmpOffset + icmpLength)}
     * of {@code packet}, its checksum checked) that arrived with {@code ttl} (above 1: the IP layer
     * answers the others). False when the relay declines: the caller handles the request as before.
     */
    public boolean echo4(ByteBuffer packet, int icmpOffset, int icmpLength, int guest, int destination, int ttl, long now) {
        return echo(false, packet, icmpOffset, icmpLength, 0, guest & 0xffff_ffffL, 0, destination & 0xffff_ffffL, ttl, now);
    }

    /** The IPv6 twin of {@link #echo4}: an ICMPv6 echo request that arrived with {@code hopLimit}. */
    public boolean echo6(ByteBuffer packet, int icmpOffset, int icmpLength, long guestHi, long guestLo, long destinationHi,
            long destinationLo, int hopLimit, long now) {
        return echo(true, packet, icmpOffset, icmpLength, guestHi, guestLo, destinationHi, destinationLo, hopLimit, now);
    }

    private boolean echo(boolean v6, ByteBuffer packet, int offset, int length, long guestHi, long guestLo, long dstHi,
            long dstLo, int ttl, long now) {
        if (sockets == null || forbidden != null && now - forbiddenSince < FORBIDDEN_RECHECK_NANOS) {
            return false;
        }
        if (length < 8 || length > MAX_MESSAGE || (packet.get(offset) & 0xff) != (v6 ? ECHO_REQUEST_V6 : ECHO_REQUEST)) {
            ignored++;
            return true;
        }
        if (!relayable(v6, dstHi, dstLo)) {
            invalidDestinations++;
            return true;
        }
        message.clear();
        message.put(0, packet, offset, length);
        messageLength = length;
        int id = message.getShort(4) & 0xffff;
        if (v6 ? refused.containsIpv6(dstHi, dstLo) : refused.containsIpv4((int) dstLo)) {
            refusedCount++;
            unreachable(v6, guestHi, guestLo, dstHi, dstLo, id, length, ttl, v6 ? 1 : 13);
            return true;
        }
        Flow flow = find(v6, guestHi, guestLo, dstHi, dstLo, id);
        if (flow == null) {
            flow = open(v6, guestHi, guestLo, dstHi, dstLo, id, now);
            if (flow == null) {
                return forbidden == null;
            }
        }
        flow.lastActive = now;
        flow.requestLength = length;
        int hop = Math.max(1, Math.min(255, ttl - 1));
        if (flow.ttl != hop) {
            try {
                flow.channel.ttl(hop);
                flow.ttl = hop;
            } catch (IOException e) {
                sendFailures++;
                return true;
            }
        }
        int sent = flow.channel.send(message, length, dstHi, dstLo);
        if (sent >= 0) {
            requests++;
            return true;
        }
        int errno = -sent;
        int code = switch (errno) {
            case PingReceipt.EHOSTUNREACH -> v6 ? 3 : 1;
            case PingReceipt.ENETUNREACH -> 0;
            case PingReceipt.EPERM, 13 -> v6 ? 1 : 13;
            default -> -1;
        };
        if (code < 0) {
            sendFailures++;
        } else {
            unreachable(v6, guestHi, guestLo, dstHi, dstLo, id, length, hop, code);
        }
        return true;
    }

    private Flow open(boolean v6, long guestHi, long guestLo, long dstHi, long dstLo, int id, long now) {
        int slot = freeSlot();
        if (slot < 0) {
            flowLimitDrops++;
            return null;
        }
        PingChannel channel;
        try {
            channel = sockets.open(v6, slot);
        } catch (PingSocketsForbidden e) {
            forbid(e, now);
            return null;
        } catch (IOException e) {
            openFailures++;
            if (openFailuresLogged++ < 5) {
                LOG.warn("cannot open a ping socket for a guest's echo request: {}", e.getMessage());
            }
            return null;
        }
        if (forbidden != null) {
            LOG.info("ping sockets may be opened now: ICMP echo reaches every destination again");
            forbidden = null;
        }
        Flow flow = new Flow(v6, guestHi, guestLo, dstHi, dstLo, id, channel);
        flows[slot] = flow;
        flowCount++;
        flow.lastActive = now;
        expiryWanted.accept(now + idleNanos + 1);
        return flow;
    }

    private void forbid(PingSocketsForbidden e, long now) {
        forbidden = "the host forbids unprivileged ping sockets (net.ipv4.ping_group_range leaves out this user's groups)";
        forbiddenSince = now;
        if (!forbiddenLogged) {
            forbiddenLogged = true;
            LOG.warn("ICMP echo reaches only the gateway and the host alias: {}; allow a group of this user there to let the "
                    + "guest ping any address", forbidden);
        }
    }

    private Flow find(boolean v6, long guestHi, long guestLo, long dstHi, long dstLo, int id) {
        for (Flow f : flows) {
            if (f != null && f.guestId == id && f.dstLo == dstLo && f.guestLo == guestLo && f.v6 == v6 && f.dstHi == dstHi
                    && f.guestHi == guestHi) {
                return f;
            }
        }
        return null;
    }

    /** Unicast addresses a host socket may be pointed at: not loopback, unspecified, multicast, broadcast or IPv6 link-local. */
    static boolean relayable(boolean v6, long hi, long lo) {
        if (!v6) {
            int first = (int) (lo >>> 24) & 0xff;
            return first != 0 && first != 127 && first < 224;
        }
        int top = (int) (hi >>> 48) & 0xffff;
        boolean unspecifiedOrLoopback = hi == 0 && (lo == 0 || lo == 1);
        boolean v4Mapped = hi == 0 && (lo >>> 32) == 0xffff;
        return !unspecifiedOrLoopback && !v4Mapped && (top >>> 8) != 0xff && (top & 0xffc0) != 0xfe80;
    }

    /** Handles the replies and errors of the sockets ready now; the event loop calls it when {@link #readiness()} is. */
    public void ready(long now) {
        if (sockets == null) {
            return;
        }
        int n = sockets.ready(readyTokens);
        for (int i = 0; i < n; i++) {
            int token = readyTokens[i];
            Flow flow = token >= 0 && token < flows.length ? flows[token] : null;
            if (flow != null) {
                drain(flow, now);
            }
        }
    }

    private void drain(Flow flow, long now) {
        for (int i = 0; i < RECEIVES_PER_READY; i++) {
            int n = flow.channel.receive(message, MAX_MESSAGE, receipt);
            if (n < 0) {
                return;
            }
            flow.lastActive = now;
            messageLength = n;
            if (receipt.error) {
                relayError(flow);
            } else {
                relayReply(flow, n);
            }
        }
    }

    private void relayReply(Flow flow, int length) {
        if (length < 8 || (message.get(0) & 0xff) != (flow.v6 ? ECHO_REPLY_V6 : ECHO_REPLY)) {
            ignored++;
            return;
        }
        message.putShort(2, (short) 0);
        message.putShort(4, (short) flow.guestId);
        if (flow.v6) {
            output.icmp6(receipt.fromHi, receipt.fromLo, flow.guestHi, flow.guestLo, message, length);
        } else {
            output.icmp4((int) receipt.fromLo, (int) flow.guestLo, message, length);
        }
        replies++;
    }

    /** An ICMP error the kernel queued: {@link #message} holds the start of the request it is about. */
    private void relayError(Flow flow) {
        boolean relayed = flow.v6
                ? receipt.origin == PingReceipt.ORIGIN_ICMP6 && (receipt.type == 1 || receipt.type == 3)
                : receipt.origin == PingReceipt.ORIGIN_ICMP && (receipt.type == 11 || receipt.type == 3 && receipt.code != 4);
        if (!relayed) {
            ignored++;
            return;
        }
        long fromHi = receipt.hasOffender ? receipt.offenderHi : flow.dstHi;
        long fromLo = receipt.hasOffender ? receipt.offenderLo : flow.dstLo;
        sendError(flow.v6, fromHi, fromLo, flow.guestHi, flow.guestLo, flow.dstHi, flow.dstLo, flow.guestId, flow.requestLength,
                flow.ttl, receipt.type, receipt.code);
        errorsRelayed++;
    }

    private void unreachable(boolean v6, long guestHi, long guestLo, long dstHi, long dstLo, int id, int length, int ttl, int code) {
        sendError(v6, v6 ? gateway6Hi : 0, v6 ? gateway6Lo : gateway4 & 0xffff_ffffL, guestHi, guestLo, dstHi, dstLo, id, length,
                ttl, v6 ? 1 : 3, code);
        unreachableSent++;
    }

    /**
     * Sends the guest an ICMP error about its echo request, quoting its IP header (rebuilt: the
     * request left from the host) and the request as far as {@link #message} holds it, with the
     * guest's identifier.
     */
    private void sendError(boolean v6, long fromHi, long fromLo, long guestHi, long guestLo, long dstHi, long dstLo, int id,
            int requestLength, int ttl, int type, int code) {
        ByteBuffer b = built;
        b.clear();
        b.putLong(0, 0);
        b.put(0, (byte) type);
        b.put(1, (byte) code);
        int quoted = Math.min(requestLength, messageLength);
        if (quoted >= 8) {
            fixIdentifier(id);
        }
        int length;
        if (v6) {
            quoted = Math.min(quoted, MAX_V6_QUOTE);
            b.putInt(8, 0x6000_0000);
            b.putShort(12, (short) requestLength);
            b.put(14, (byte) 58);
            b.put(15, (byte) ttl);
            b.putLong(16, guestHi).putLong(24, guestLo).putLong(32, dstHi).putLong(40, dstLo);
            b.put(48, message, 0, quoted);
            length = 48 + quoted;
            output.icmp6(fromHi, fromLo, guestHi, guestLo, b, length);
        } else {
            quoted = Math.min(quoted, 8);
            b.putInt(8, 0x4500_0000 | (20 + requestLength));
            b.putInt(12, 0);
            b.putInt(16, ttl << 24 | 1 << 16);
            b.putInt(20, (int) guestLo);
            b.putInt(24, (int) dstLo);
            b.putShort(18, (short) Checksum.compute(b, 8, 20));
            b.put(28, message, 0, quoted);
            length = 28 + quoted;
            output.icmp4((int) fromLo, (int) guestLo, b, length);
        }
    }

    /** Puts the guest's identifier into the request in {@link #message}, updating its checksum (RFC 1624). */
    private void fixIdentifier(int id) {
        int old = message.getShort(4) & 0xffff;
        if (old == id) {
            return;
        }
        int checksum = message.getShort(2) & 0xffff;
        long sum = (~checksum & 0xffff) + (~old & 0xffff) + id;
        message.putShort(2, (short) Checksum.fold(sum));
        message.putShort(4, (short) id);
    }

    /** Closes the flows idle for longer than the timeout; when the next may be due ({@link Long#MAX_VALUE}: no flow left). */
    public long expire(long now) {
        long next = Long.MAX_VALUE;
        for (int i = 0; i < flows.length; i++) {
            Flow f = flows[i];
            if (f == null) {
                continue;
            }
            if (now - f.lastActive > idleNanos) {
                f.channel.close();
                flows[i] = null;
                flowCount--;
                expired++;
            } else {
                next = Math.min(next, f.lastActive + idleNanos + 1);
            }
        }
        return next;
    }

    /** The relay for {@code slipway net status}. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        String declines = declines();
        m.put("echo", declines == null ? "any destination" : "gateway and host alias only: " + declines);
        m.put("flows", flowCount);
        m.put("maxFlows", flows.length);
        m.put("requests", requests);
        m.put("replies", replies);
        m.put("errorsRelayed", errorsRelayed);
        m.put("unreachableSent", unreachableSent);
        m.put("refused", refusedCount);
        m.put("invalidDestinations", invalidDestinations);
        m.put("flowLimitDrops", flowLimitDrops);
        m.put("sendFailures", sendFailures);
        m.put("openFailures", openFailures);
        m.put("expired", expired);
        m.put("ignored", ignored);
        return m;
    }

    public int flows() {
        return flowCount;
    }

    /** The fields of a handed-over flow ({@link #handOver}); the layout never changes, only grows. */
    static final int H_V6 = 0, H_GUEST_HI = 1, H_GUEST_LO = 2, H_DST_HI = 3, H_DST_LO = 4, H_ID = 5, H_DESCRIPTOR = 6,
            H_TTL = 7, H_IDLE_FOR = 8, H_REQUEST_LENGTH = 9, H_FIELDS = 10;

    /**
     * Lets go of every flow for the next version of the stack: each one's ping socket stays open
     * (a reply on its way arrives in it and waits there) and is described as {@code long[]} (family,
     * guest, destination, the guest's identifier, descriptor, TTL, idle time, request length).
     * The relay has no flow afterwards. Lock held.
     */
    public java.util.List<long[]> handOver(long now) {
        java.util.List<long[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < flows.length; i++) {
            Flow f = flows[i];
            if (f == null) {
                continue;
            }
            flows[i] = null;
            int descriptor = f.channel.letGo();
            if (descriptor < 0) {
                f.channel.close();
                continue;
            }
            out.add(new long[] {f.v6 ? 1 : 0, f.guestHi, f.guestLo, f.dstHi, f.dstLo, f.guestId, descriptor, f.ttl,
                    Math.max(0, now - f.lastActive), f.requestLength});
        }
        flowCount = 0;
        return out;
    }

    /**
     * Goes on with the flows a previous version handed over ({@link #handOver}): the same ping
     * sockets, so replies that arrived during the update are relayed now. A flow this relay cannot
     * take is named in {@code failures} and its socket closed with {@code close}. Lock held.
     *
     * @return how many flows were taken
     */
    public int adopt(java.util.List<?> handed, long now, java.util.function.IntConsumer close, java.util.List<String> failures) {
        int taken = 0;
        for (Object o : handed) {
            if (!(o instanceof long[] r) || r.length < H_FIELDS || r[H_DESCRIPTOR] < 0 || r[H_DESCRIPTOR] > Integer.MAX_VALUE) {
                failures.add("an ICMP echo flow description that is not one");
                continue;
            }
            int descriptor = (int) r[H_DESCRIPTOR];
            int slot = freeSlot();
            if (sockets == null || slot < 0) {
                close.accept(descriptor);
                failures.add("ICMP echo flow: " + (sockets == null ? declines() : "the flow table is full"));
                continue;
            }
            boolean v6 = r[H_V6] == 1;
            PingChannel channel;
            try {
                channel = sockets.adopt(descriptor, v6, slot);
            } catch (IOException e) {
                failures.add("ICMP echo flow: " + e.getMessage());
                continue;
            }
            Flow f = new Flow(v6, r[H_GUEST_HI], r[H_GUEST_LO], r[H_DST_HI], r[H_DST_LO], (int) r[H_ID] & 0xffff, channel);
            f.ttl = (int) r[H_TTL];
            f.lastActive = now - Math.max(0, r[H_IDLE_FOR]);
            f.requestLength = (int) Math.max(0, Math.min(MAX_MESSAGE, r[H_REQUEST_LENGTH]));
            flows[slot] = f;
            flowCount++;
            taken++;
        }
        if (taken > 0) {
            expiryWanted.accept(now + 1);
        }
        return taken;
    }

    private int freeSlot() {
        for (int i = 0; i < flows.length; i++) {
            if (flows[i] == null) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        for (int i = 0; i < flows.length; i++) {
            if (flows[i] != null) {
                flows[i].channel.close();
                flows[i] = null;
            }
        }
        flowCount = 0;
        if (sockets != null) {
            sockets.close();
        }
    }

    private static final class Flow {
        final boolean v6;
        final long guestHi;
        final long guestLo;
        final long dstHi;
        final long dstLo;
        final int guestId;
        final PingChannel channel;
        long lastActive;
        int requestLength;
        int ttl = -1;

        Flow(boolean v6, long guestHi, long guestLo, long dstHi, long dstLo, int guestId, PingChannel channel) {
            this.v6 = v6;
            this.guestHi = guestHi;
            this.guestLo = guestLo;
            this.dstHi = dstHi;
            this.dstLo = dstLo;
            this.guestId = guestId;
            this.channel = channel;
        }
    }
}
