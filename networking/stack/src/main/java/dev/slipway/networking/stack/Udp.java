package dev.slipway.networking.stack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.dns.api.DnsService;

/** UDP: one connected host socket per guest flow, expired when idle, in a bounded table. */
final class Udp {
    private static final Logger LOG = LoggerFactory.getLogger(Udp.class);
    static final int MAX_DATAGRAM = 65507;
    private final NetStack stack;
    private final NetConfig config;
    private final HashMap<FlowKey, Flow> flows = new HashMap<>();
    private final FlowKey probe = new FlowKey();
    private final ArrayList<Flow> expired = new ArrayList<>();
    long datagramsToHost, datagramsToGuest, bytesToHost, bytesToGuest, dnsQueries, created;
    /** Flows opened from the host side (published ports): the guest's replies come back to an address of ours. */
    private final HashMap<FlowKey, GuestFlow> guestFlows = new HashMap<>();
    long guestFlowsCreated, repliesFromGuest;

    /** A flow we opened towards a guest port; the guest answers to {@code key.dstIp:key.dstPort}. */
    public final class GuestFlow implements dev.slipway.networking.api.GuestDatagramFlow {
        final FlowKey key;
        final dev.slipway.networking.api.DatagramReceiver replies;
        boolean closed;

        GuestFlow(FlowKey key, dev.slipway.networking.api.DatagramReceiver replies) {
            this.key = key;
            this.replies = replies;
        }

        @Override
        public void send(ByteBuffer payload) {
            stack.lock.lock();
            try {
                if (closed) {
                    return;
                }
                int n = payload.remaining();
                if (n > MAX_DATAGRAM) {
                    stack.stats.drop(Drop.OVERSIZED);
                    return;
                }
                ByteBuffer o = stack.out;
                o.clear();
                o.put(NetStack.IP_OFF + 28, payload, payload.position(), n);
                datagramsToGuest++;
                bytesToGuest += n;
                sendToGuest(o, key.dstIp, key.dstPort, key.guestIp, key.guestPort, n);
            } finally {
                stack.lock.unlock();
            }
        }

        @Override
        public void close() {
            stack.lock.lock();
            try {
                closed = true;
                guestFlows.remove(key);
            } finally {
                stack.lock.unlock();
            }
        }
    }

    /** Opens a flow from {@code srcIp} (an address of ours) to the guest; called with the lock held. */
    GuestFlow openToGuest(int srcIp, int guestIp, int guestPort, dev.slipway.networking.api.DatagramReceiver replies) {
        if (flows.size() + guestFlows.size() >= config.maxUdpFlows()) {
            stack.stats.drop(Drop.UDP_FLOW_LIMIT);
            return null;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom();
        FlowKey key = new FlowKey();
        do {
            key.set(guestIp, guestPort, srcIp, 49152 + random.nextInt(16384));
        } while (guestFlows.containsKey(key));
        GuestFlow flow = new GuestFlow(key, replies);
        guestFlows.put(key, flow);
        guestFlowsCreated++;
        return flow;
    }

    /** A datagram from the guest to an address of ours: a reply on a flow we opened, if there is one. */
    private boolean replyFromGuest(ByteBuffer f, int off, int len, int src, int srcPort, int dst, int dstPort) {
        if (guestFlows.isEmpty()) {
            return false;
        }
        GuestFlow flow = guestFlows.get(probe.set(src, srcPort, dst, dstPort));
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

    final class Flow {
        final FlowKey key;
        final DatagramChannel channel;
        SelectionKey selectionKey;
        long lastActive;

        Flow(FlowKey key, DatagramChannel channel) {
            this.key = key;
            this.channel = channel;
        }
    }

    Udp(NetStack stack) {
        this.stack = stack;
        this.config = stack.config;
    }

    void input(ByteBuffer f, int ihl, int totalLen, int src, int dst, boolean toGateway, boolean broadcast) {
        int off = NetStack.IP_OFF + ihl;
        if (totalLen - ihl < 8) {
            stack.stats.drop(Drop.TRUNCATED);
            return;
        }
        int len = f.getShort(off + 4) & 0xffff;
        if (len < 8 || len > totalLen - ihl) {
            stack.stats.drop(Drop.TRUNCATED);
            return;
        }
        if (f.getShort(off + 6) != 0 && !stack.l4ChecksumPending
                && Checksum.fold(Checksum.sum(f, off, len, Checksum.pseudoHeader(src, dst, NetStack.PROTO_UDP, len))) != 0) {
            stack.stats.drop(Drop.BAD_UDP_CHECKSUM);
            return;
        }
        int srcPort = f.getShort(off) & 0xffff;
        int dstPort = f.getShort(off + 2) & 0xffff;
        if (dstPort == Dhcp.SERVER_PORT && (broadcast || toGateway)) {
            stack.dhcp.input(f, off + 8, len - 8);
            return;
        }
        if (broadcast) {
            stack.stats.drop(Drop.BROADCAST_IGNORED);
            return;
        }
        if (toGateway && replyFromGuest(f, off, len, src, srcPort, dst, dstPort)) {
            return;
        }
        if (toGateway) {
            DnsService dns = stack.dns;
            if (dstPort == 53 && dns != null) {
                dns(dns, f, off, len, src, srcPort);
            } else {
                stack.stats.drop(dstPort == 53 ? Drop.DNS_UNAVAILABLE : Drop.NOT_FOR_US);
                stack.icmpError(f, ihl, totalLen, 3, 3, dst);
            }
            return;
        }
        Flow flow = flows.get(probe.set(src, srcPort, dst, dstPort));
        if (flow == null) {
            flow = open(f, ihl, totalLen, src, srcPort, dst, dstPort);
            if (flow == null) {
                return;
            }
        }
        flow.lastActive = System.nanoTime();
        f.limit(off + len).position(off + 8);
        try {
            flow.channel.write(f);
            datagramsToHost++;
            bytesToHost += len - 8;
        } catch (PortUnreachableException e) {
            stack.icmpError(f, ihl, totalLen, 3, 3, dst);
        } catch (IOException e) {
            stack.stats.drop(Drop.UDP_SEND_FAILED);
            stack.icmpError(f, ihl, totalLen, 3, 1, config.gateway());
        }
    }

    private Flow open(ByteBuffer f, int ihl, int totalLen, int src, int srcPort, int dst, int dstPort) {
        if (flows.size() >= config.maxUdpFlows()) {
            stack.stats.drop(Drop.UDP_FLOW_LIMIT);
            return null;
        }
        DatagramChannel channel = null;
        try {
            channel = DatagramChannel.open();
            channel.configureBlocking(false);
            channel.connect(new InetSocketAddress(dst == config.hostAlias() ? config.hostLoopback() : Ip4.toInet(dst), dstPort));
            FlowKey key = new FlowKey().set(src, srcPort, dst, dstPort);
            Flow flow = new Flow(key, channel);
            flow.selectionKey = channel.register(stack.selector, SelectionKey.OP_READ, flow);
            stack.wakeLoop();
            flows.put(key, flow);
            created++;
            return flow;
        } catch (IOException e) {
            stack.stats.drop(Drop.UDP_SEND_FAILED);
            stack.icmpError(f, ihl, totalLen, 3, 1, config.gateway());
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing: the ICMP error tells the guest
                }
            }
            return null;
        }
    }

    void ready(Flow flow, SelectionKey key) {
        if (!key.isValid() || !key.isReadable()) {
            return;
        }
        ByteBuffer o = stack.out;
        int payload = NetStack.IP_OFF + 28;
        for (int i = 0; i < 64; i++) {
            o.clear().limit(payload + MAX_DATAGRAM).position(payload);
            int n;
            try {
                n = flow.channel.read(o);
            } catch (PortUnreachableException e) {
                quoteUnreachable(flow);
                return;
            } catch (IOException e) {
                close(flow);
                return;
            }
            if (n <= 0) {
                return;
            }
            flow.lastActive = System.nanoTime();
            datagramsToGuest++;
            bytesToGuest += n;
            sendToGuest(o, flow.key.dstIp, flow.key.dstPort, flow.key.guestIp, flow.key.guestPort, n);
        }
    }

    /** The host said port unreachable: tell the guest with an ICMP error quoting a datagram of the flow. */
    private void quoteUnreachable(Flow flow) {
        ByteBuffer o = stack.out;
        o.clear();
        int udp = NetStack.IP_OFF + 20;
        o.putShort(udp, (short) flow.key.guestPort).putShort(udp + 2, (short) flow.key.dstPort)
                .putShort(udp + 4, (short) 8).putShort(udp + 6, (short) 0);
        o.putInt(NetStack.IP_OFF, 0x4500_0000 | 28);
        o.putInt(NetStack.IP_OFF + 4, 0);
        o.putInt(NetStack.IP_OFF + 8, 64 << 24 | NetStack.PROTO_UDP << 16);
        o.putInt(NetStack.IP_OFF + 12, flow.key.guestIp);
        o.putInt(NetStack.IP_OFF + 16, flow.key.dstIp);
        stack.icmpError(o, 20, 28, 3, 3, flow.key.dstIp);
    }

    /**
     * Sends the {@code n}-byte payload already at offset 42 of {@code o} as a UDP datagram,
     * fragmenting it when it exceeds the MTU.
     */
    void sendToGuest(ByteBuffer o, int src, int srcPort, int dst, int dstPort, int n) {
        int udp = NetStack.IP_OFF + 20;
        int udpLen = 8 + n;
        o.putShort(udp, (short) srcPort).putShort(udp + 2, (short) dstPort).putShort(udp + 4, (short) udpLen)
                .putShort(udp + 6, (short) 0);
        int sum = Checksum.fold(Checksum.sum(o, udp, udpLen, Checksum.pseudoHeader(src, dst, NetStack.PROTO_UDP, udpLen)));
        o.putShort(udp + 6, (short) (sum == 0 ? 0xffff : sum));
        if (20 + udpLen <= config.mtu()) {
            stack.ipHeader(o, 20 + udpLen, NetStack.PROTO_UDP, src, dst, false);
            stack.sendToGuest(o, NetStack.ETH_HLEN + 20 + udpLen);
            return;
        }
        int chunk = (config.mtu() - 20) & ~7;
        int id = stack.nextIpId();
        ByteBuffer a = stack.aux;
        for (int at = 0; at < udpLen; at += chunk) {
            int len = Math.min(chunk, udpLen - at);
            boolean more = at + len < udpLen;
            a.clear();
            a.put(NetStack.IP_OFF + 20, o, udp + at, len);
            a.putInt(NetStack.IP_OFF, 0x4500_0000 | (20 + len));
            a.putInt(NetStack.IP_OFF + 4, id << 16 | (more ? 0x2000 : 0) | (at >> 3));
            a.putInt(NetStack.IP_OFF + 8, 64 << 24 | NetStack.PROTO_UDP << 16);
            a.putInt(NetStack.IP_OFF + 12, src);
            a.putInt(NetStack.IP_OFF + 16, dst);
            a.putShort(NetStack.IP_OFF + 10, (short) Checksum.compute(a, NetStack.IP_OFF, 20));
            stack.sendToGuest(a, NetStack.ETH_HLEN + 20 + len);
        }
    }

    private void dns(DnsService dns, ByteBuffer f, int off, int len, int src, int srcPort) {
        dnsQueries++;
        f.limit(off + len).position(off + 8);
        InetSocketAddress client = new InetSocketAddress(Ip4.toInet(src), srcPort);
        try {
            dns.answer(f, client, false, answer -> answerDns(answer, src, srcPort));
        } catch (RuntimeException e) {
            stack.stats.drop(Drop.DNS_UNAVAILABLE);
            LOG.warn("the DNS service failed on a query", e);
        }
    }

    private void answerDns(ByteBuffer answer, int guest, int guestPort) {
        if (answer == null) {
            return;
        }
        stack.lock.lock();
        try {
            int n = answer.remaining();
            if (n > MAX_DATAGRAM) {
                stack.stats.drop(Drop.OVERSIZED);
                return;
            }
            ByteBuffer o = stack.out;
            o.clear();
            o.put(NetStack.IP_OFF + 28, answer, answer.position(), n);
            sendToGuest(o, config.gateway(), 53, guest, guestPort, n);
        } finally {
            stack.lock.unlock();
        }
    }

    void expire(long now) {
        long idle = config.udpIdleTimeoutSeconds() * 1_000_000_000L;
        for (Flow flow : flows.values()) {
            if (now - flow.lastActive > idle) {
                expired.add(flow);
            }
        }
        for (Flow flow : expired) {
            close(flow);
        }
        expired.clear();
    }

    private void close(Flow flow) {
        flows.remove(flow.key);
        try {
            flow.channel.close();
        } catch (IOException e) {
            LOG.debug("closing a UDP flow", e);
        }
    }

    void closeAll() {
        for (GuestFlow flow : guestFlows.values()) {
            flow.closed = true;
        }
        guestFlows.clear();
        for (Iterator<Flow> it = flows.values().iterator(); it.hasNext(); ) {
            Flow flow = it.next();
            it.remove();
            try {
                flow.channel.close();
            } catch (IOException e) {
                LOG.debug("closing a UDP flow", e);
            }
        }
    }

    int size() {
        return flows.size();
    }

    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("flows", flows.size());
        m.put("flowsCreated", created);
        m.put("datagramsToHost", datagramsToHost);
        m.put("datagramsToGuest", datagramsToGuest);
        m.put("bytesToHost", bytesToHost);
        m.put("bytesToGuest", bytesToGuest);
        m.put("dnsQueries", dnsQueries);
        m.put("flowsToGuest", guestFlows.size());
        m.put("flowsToGuestCreated", guestFlowsCreated);
        m.put("repliesFromGuest", repliesFromGuest);
        return m;
    }
}
