package dev.slipway.networking.stack.udp;

import java.io.IOException;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.SplittableRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.host.HostDatagrams;
import dev.slipway.networking.stack.host.HostEndpoints;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.DatagramService;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.PacketContext.Destination;
import dev.slipway.networking.stack.ip.ProtocolInput;
import dev.slipway.networking.stack.ip.Unreachable;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.loop.Timer;

/**
 * UDP: one host endpoint per guest flow, expired when idle, in a bounded table; the gateway's own
 * services (DHCP, DNS) answered in process; and the flows published ports open towards a guest.
 */
public final class Udp implements ProtocolInput, HostEndpoints.DatagramReplies {
    private static final Logger LOG = LoggerFactory.getLogger(Udp.class);
    public static final int MAX_DATAGRAM = 65507;
    final NetConfig config;
    final Stats stats;
    final EventLoop loop;
    final IpOutput output;
    private final HostEndpoints endpoints;
    private final List<DatagramService> services;
    private final HashMap<FlowKey, UdpFlow> flows = new HashMap<>();
    private final FlowKey probe = new FlowKey();
    private final ArrayList<UdpFlow> expired = new ArrayList<>();
    /** Flows opened from the host side (published ports): the guest's replies come back to an address of ours. */
    final HashMap<FlowKey, GuestFlow> guestFlows = new HashMap<>();
    private final Timer idleTimer = new Timer() {
        @Override
        protected void expired(long now) {
            expireIdle(now);
        }
    };
    long datagramsToHost, datagramsToGuest, bytesToHost, bytesToGuest, created;
    long guestFlowsCreated, repliesFromGuest;

    public Udp(NetConfig config, Stats stats, EventLoop loop, IpOutput output, HostEndpoints endpoints, List<DatagramService> services) {
        this.config = config;
        this.stats = stats;
        this.loop = loop;
        this.output = output;
        this.endpoints = endpoints;
        this.services = List.copyOf(services);
    }

    @Override
    public void input(PacketContext p, ByteBuffer f) {
        int off = p.l4Offset;
        if (p.l4Length < 8) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int len = f.getShort(off + 4) & 0xffff;
        if (len < 8 || len > p.l4Length) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (f.getShort(off + 6) != 0 && !p.checksumPending
                && Checksum.fold(Checksum.sum(f, off, len, p.pseudoHeader(len))) != 0) {
            stats.drop(Drop.BAD_UDP_CHECKSUM);
            return;
        }
        int srcPort = f.getShort(off) & 0xffff;
        int dstPort = f.getShort(off + 2) & 0xffff;
        boolean broadcast = p.destination == Destination.BROADCAST;
        boolean toGateway = p.destination == Destination.GATEWAY;
        if (broadcast || toGateway) {
            for (int i = 0; i < services.size(); i++) {
                if (services.get(i).datagram(p, dstPort, f, off + 8, len - 8)) {
                    return;
                }
            }
        }
        if (broadcast) {
            stats.drop(Drop.BROADCAST_IGNORED);
            return;
        }
        FlowKey key = probe.set(p, srcPort, dstPort);
        if (toGateway) {
            if (replyFromGuest(key, f, off, len)) {
                return;
            }
            int limit = f.limit();
            f.limit(off + len).position(off + 8);
            Drop refused = endpoints.gatewayDatagram(key, f, this);
            f.limit(limit).position(0);
            if (refused != null) {
                stats.drop(refused);
                output.unreachable(p, f, Unreachable.PORT);
            }
            return;
        }
        UdpFlow flow = flows.get(key);
        if (flow == null) {
            flow = open(p, f, key);
            if (flow == null) {
                return;
            }
        }
        flow.lastActive = System.nanoTime();
        int limit = f.limit();
        f.limit(off + len).position(off + 8);
        try {
            flow.host.send(f);
            datagramsToHost++;
            bytesToHost += len - 8;
        } catch (PortUnreachableException e) {
            output.unreachable(p, f, Unreachable.PORT);
        } catch (IOException e) {
            stats.drop(Drop.UDP_SEND_FAILED);
            output.unreachable(p, f, Unreachable.HOST);
        } finally {
            f.limit(limit).position(0);
        }
    }

    /** UDP answers a refused destination with ICMP administratively prohibited. */
    @Override
    public void refuse(PacketContext p, ByteBuffer f) {
        output.unreachable(p, f, Unreachable.ADMIN_PROHIBITED);
    }

    private UdpFlow open(PacketContext p, ByteBuffer f, FlowKey probeKey) {
        if (flows.size() >= config.maxUdpFlows()) {
            stats.drop(Drop.UDP_FLOW_LIMIT);
            return null;
        }
        FlowKey key = probeKey.copy();
        UdpFlow flow = new UdpFlow(this, key);
        try {
            flow.host = endpoints.openDatagrams(key, p.destination, flow);
        } catch (IOException e) {
            stats.drop(Drop.UDP_SEND_FAILED);
            output.unreachable(p, f, Unreachable.HOST);
            return null;
        }
        flows.put(key, flow);
        created++;
        if (!idleTimer.scheduled()) {
            loop.schedule(idleTimer, System.nanoTime() + idleNanos() + 1);
        }
        return flow;
    }

    /** A datagram from the guest to an address of ours: a reply on a flow we opened, if there is one. */
    private boolean replyFromGuest(FlowKey key, ByteBuffer f, int off, int len) {
        if (guestFlows.isEmpty()) {
            return false;
        }
        GuestFlow flow = guestFlows.get(key);
        if (flow == null) {
            return false;
        }
        repliesFromGuest++;
        int limit = f.limit();
        f.limit(off + len).position(off + 8);
        try {
            flow.replies.received(f);
        } catch (RuntimeException e) {
            LOG.warn("a published UDP port's receiver failed", e);
        } finally {
            f.limit(limit).position(0);
        }
        return true;
    }

    /** Opens a flow from {@code srcIp} (an address of ours) to the guest; lock held. */
    public GuestFlow openToGuest(int srcIp, int guestIp, int guestPort, DatagramReceiver replies) {
        return openToGuest(new FlowKey().set(guestIp, guestPort, srcIp, 0), replies);
    }

    /** As {@link #openToGuest(int, int, int, DatagramReceiver)} for either family: {@code toGuest}'s destination port is chosen here. */
    public GuestFlow openToGuest(FlowKey toGuest, DatagramReceiver replies) {
        if (flows.size() + guestFlows.size() >= config.maxUdpFlows()) {
            stats.drop(Drop.UDP_FLOW_LIMIT);
            return null;
        }
        SplittableRandom random = new SplittableRandom();
        FlowKey key = toGuest.copy();
        do {
            key.dstPort = 49152 + random.nextInt(16384);
        } while (guestFlows.containsKey(key));
        GuestFlow flow = new GuestFlow(this, key, replies);
        guestFlows.put(key, flow);
        guestFlowsCreated++;
        return flow;
    }

    /** An answer from one of the gateway's own services (DNS); lock held. */
    @Override
    public void reply(FlowKey flow, ByteBuffer payload) {
        int n = payload.remaining();
        if (n > MAX_DATAGRAM) {
            stats.drop(Drop.OVERSIZED);
            return;
        }
        output.buffer().clear();
        output.buffer().put(output.l4Offset(flow.family) + 8, payload, payload.position(), n);
        sendToGuest(flow, n);
    }

    /** Copies {@code payload} (position to limit) behind a UDP header and sends it on the flow; lock held. */
    void send(FlowKey flow, ByteBuffer payload) {
        int n = payload.remaining();
        if (n > MAX_DATAGRAM) {
            stats.drop(Drop.OVERSIZED);
            return;
        }
        ByteBuffer o = output.buffer();
        o.clear();
        o.put(output.l4Offset(flow.family) + 8, payload, payload.position(), n);
        datagramsToGuest++;
        bytesToGuest += n;
        sendToGuest(flow, n);
    }

    /**
     * Sends the {@code n}-byte payload already behind the UDP header's place in the output buffer
     * as a datagram from the flow's destination to its guest (fragmented by IPv4 above the MTU).
     */
    void sendToGuest(FlowKey k, int n) {
        ByteBuffer o = output.buffer();
        int udp = output.l4Offset(k.family);
        int udpLen = 8 + n;
        o.putShort(udp, (short) k.dstPort).putShort(udp + 2, (short) k.guestPort).putShort(udp + 4, (short) udpLen)
                .putShort(udp + 6, (short) 0);
        int sum = Checksum.fold(Checksum.sum(o, udp, udpLen, output.pseudoHeader(k, IpProtocols.UDP, udpLen)));
        o.putShort(udp + 6, (short) (sum == 0 ? 0xffff : sum));
        output.send(k, IpProtocols.UDP, udpLen, 0, false);
    }

    private long idleNanos() {
        return config.udpIdleTimeoutSeconds() * 1_000_000_000L;
    }

    void expireIdle(long now) {
        long idle = idleNanos();
        long oldest = now;
        for (UdpFlow flow : flows.values()) {
            if (now - flow.lastActive > idle) {
                expired.add(flow);
            } else if (flow.lastActive - oldest < 0) {
                oldest = flow.lastActive;
            }
        }
        for (UdpFlow flow : expired) {
            close(flow);
        }
        expired.clear();
        if (!flows.isEmpty()) {
            loop.schedule(idleTimer, Math.max(oldest + idle + 1, now + 1_000_000_000L));
        }
    }

    void close(UdpFlow flow) {
        if (flows.remove(flow.key) == flow) {
            flow.host.close();
        }
    }

    public void closeAll() {
        for (GuestFlow flow : guestFlows.values()) {
            flow.closed = true;
        }
        guestFlows.clear();
        for (UdpFlow flow : new ArrayList<>(flows.values())) {
            close(flow);
        }
        loop.cancel(idleTimer);
    }

    /** The names in a handed-over UDP flow's description. */
    public static final String FLOW = "flow", CHANNEL = "channel", IDLE_FOR = "idleForNanos";
    /** The names in a handed-over flow to the guest (a published UDP port's client). */
    public static final String GUEST_FLOW = "guestFlow", NEXT_HOP = "nextHop", REPLIES = "replies", HAND_ON = "handOn";

    /**
     * Lets go of every guest flow for the next version of the stack: each one's connected host
     * socket (and the datagrams waiting in it) goes on, described as {@code flow} ({@code {family,
     * guestHi, guestLo, guestPort, dstHi, dstLo, dstPort}}), {@code channel} and {@code idleForNanos}.
     * Flows opened from the host side (published UDP ports) go on from the same gateway port to
     * the same receiver, described as {@code guestFlow} (the same form), {@code nextHop}, {@code
     * replies} and {@code handOn}, where the next version gives its flow to the object the owner
     * holds; until then (and for ever, when nobody takes them) they are closed. Lock held, the
     * loop stopped.
     */
    public List<Map<String, Object>> handOver(long now) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (UdpFlow flow : flows.values()) {
            Object channel = flow.host.handOver();
            if (channel == null) {
                flow.host.close();
                continue;
            }
            FlowKey k = flow.key;
            out.add(Map.of(FLOW, k.toLongs(),
                    CHANNEL, channel, IDLE_FOR, Math.max(0, now - flow.lastActive)));
        }
        flows.clear();
        for (GuestFlow flow : guestFlows.values()) {
            flow.closed = true;
            out.add(Map.of(GUEST_FLOW, flow.key.toLongs(), NEXT_HOP, flow.key.nextHop4, REPLIES, flow.replies,
                    HAND_ON, flow.handOn));
        }
        guestFlows.clear();
        loop.cancel(idleTimer);
        return out;
    }

    /**
     * Goes on with the flows a previous version handed over ({@link #handOver}); one this version
     * cannot take has its host socket closed (the next datagram opens a new one) and is named in
     * {@code failures}. Lock held.
     *
     * @return how many flows were taken
     */
    public int adopt(List<?> descriptions, List<String> failures) {
        long now = System.nanoTime();
        int taken = 0;
        for (Object d : descriptions) {
            if (d instanceof Map<?, ?> g && g.containsKey(GUEST_FLOW)) {
                taken += adoptGuestFlow(g, failures) ? 1 : 0;
                continue;
            }
            if (!(d instanceof Map<?, ?> m) || !(m.get(FLOW) instanceof long[] f) || f.length < 7 || (f[0] != 4 && f[0] != 6)
                    || !(m.get(IDLE_FOR) instanceof Long idle)) {
                failures.add("a UDP flow description that is not one");
                if (d instanceof Map<?, ?> m) {
                    HostEndpoints.discard(m.get(CHANNEL));
                }
                continue;
            }
            FlowKey key = FlowKey.fromLongs(f);
            if (flows.containsKey(key) || flows.size() >= config.maxUdpFlows()) {
                failures.add("UDP flow: " + (flows.containsKey(key) ? "its flow is taken" : "the flow table is full"));
                HostEndpoints.discard(m.get(CHANNEL));
                continue;
            }
            UdpFlow flow = new UdpFlow(this, key);
            try {
                flow.host = endpoints.adoptDatagrams(m.get(CHANNEL), flow);
            } catch (IOException e) {
                failures.add("UDP flow: " + e.getMessage());
                HostEndpoints.discard(m.get(CHANNEL));
                continue;
            }
            flow.lastActive = now - idle;
            flows.put(key, flow);
            taken++;
        }
        if (!flows.isEmpty() && !idleTimer.scheduled()) {
            loop.schedule(idleTimer, now + 1_000_000_000L);
        }
        return taken;
    }

    /** Goes on with a published port's flow: same gateway port, same receiver; the owner's object forwards here from now on. */
    @SuppressWarnings("unchecked")
    private boolean adoptGuestFlow(Map<?, ?> m, List<String> failures) {
        if (!(m.get(GUEST_FLOW) instanceof long[] f) || !(m.get(NEXT_HOP) instanceof Integer nextHop)
                || !(m.get(REPLIES) instanceof DatagramReceiver replies) || !(m.get(HAND_ON) instanceof Consumer<?> handOn)) {
            failures.add("a published UDP port's flow description that is not one (its owner opens it again)");
            return false;
        }
        FlowKey key = FlowKey.fromLongs(f);
        if (key == null || guestFlows.containsKey(key) || flows.size() + guestFlows.size() >= config.maxUdpFlows()) {
            failures.add("published UDP port's flow: " + (key == null ? "not a flow" : guestFlows.containsKey(key)
                    ? "its gateway port is taken" : "the flow table is full"));
            return false;
        }
        key.nextHop4 = nextHop;
        GuestFlow flow = new GuestFlow(this, key, replies, (Consumer<Object>) handOn);
        guestFlows.put(key, flow);
        flow.handOn.accept(flow);
        return true;
    }

    public int size() {
        return flows.size();
    }

    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("flows", flows.size());
        m.put("flowsCreated", created);
        m.put("datagramsToHost", datagramsToHost);
        m.put("datagramsToGuest", datagramsToGuest);
        m.put("bytesToHost", bytesToHost);
        m.put("bytesToGuest", bytesToGuest);
        m.put("dnsQueries", endpoints.dnsQueries());
        m.put("flowsToGuest", guestFlows.size());
        m.put("flowsToGuestCreated", guestFlowsCreated);
        m.put("repliesFromGuest", repliesFromGuest);
        return m;
    }
}
