package dev.slipway.networking.stack.ip4;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.OutputBuffers;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.PacketContext.Destination;
import dev.slipway.networking.stack.ip.ProtocolInput;
import dev.slipway.networking.stack.ip.Unreachable;
import dev.slipway.networking.stack.link.Ethernet;
import dev.slipway.networking.stack.link.FrameOutput;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.loop.Timer;

/**
 * IPv4 at the gateway: validates what the guests send, reassembles fragments, answers ARP, ICMP
 * echo and DHCP, and hands TCP and UDP segments up with their {@link PacketContext}; as the
 * transports' {@link IpOutput} it adds the IPv4 and Ethernet headers to what they send.
 */
public final class Ip4Layer implements IpOutput {
    public static final int IP_OFF = Ethernet.HLEN;

    final NetConfig config;
    final Stats stats;
    final ByteBuffer out;
    final ByteBuffer aux;
    final Arp arp;
    final Dhcp dhcp;
    private final CidrList refused;
    private final FrameOutput links;
    private final EventLoop loop;
    private final Reassembler reassembler;
    private final Icmp4 icmp;
    private final PacketContext packet = new PacketContext();
    private final Timer fragmentTimer = new Timer() {
        @Override
        protected void expired(long now) {
            reassembler.expire(now);
            armFragmentTimer();
        }
    };
    private ProtocolInput tcp;
    private ProtocolInput udp;
    private int ipId;

    public Ip4Layer(NetConfig config, Stats stats, OutputBuffers buffers, FrameOutput links, EventLoop loop) {
        this.config = config;
        this.stats = stats;
        this.out = buffers.out;
        this.aux = buffers.aux;
        this.refused = config.refusedDestinations();
        this.links = links;
        this.loop = loop;
        this.arp = new Arp(config, stats, links);
        this.dhcp = new Dhcp(this);
        this.reassembler = new Reassembler(this, 16, 30_000);
        this.icmp = new Icmp4(this, stats);
    }

    /** The transports segments go up to. */
    public void transports(ProtocolInput tcpInput, ProtocolInput udpInput) {
        this.tcp = tcpInput;
        this.udp = udpInput;
    }

    /** Hands the guests' echo requests to addresses not the gateway's to {@code relay}. */
    public void echoRelay(EchoRelay relay) {
        icmp.relay = relay;
    }

    /** Sends an ICMP message of the echo relay (checksum field zero) to a guest. */
    public void sendIcmp(int from, int to, ByteBuffer message, int length) {
        icmp.relayed(from, to, message, length);
    }

    /** The DHCP server, a local service of UDP. */
    public Dhcp dhcp() {
        return dhcp;
    }

    public void arp(ByteBuffer f, int len) {
        arp.input(f, len);
    }

    // ---------------------------------------------------------------- from the guests

    /** An IPv4 frame for the gateway (or broadcast), at index 0 up to {@code len}. */
    public void input(ByteBuffer f, int len, boolean checksumPending, boolean linkOffload) {
        if (len < IP_OFF + 20) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int vihl = f.get(IP_OFF) & 0xff;
        int ihl = (vihl & 15) * 4;
        if (vihl >> 4 != 4 || ihl < 20) {
            stats.drop(Drop.BAD_IP_HEADER);
            return;
        }
        int totalLen = f.getShort(IP_OFF + 2) & 0xffff;
        if (totalLen < ihl || IP_OFF + totalLen > len) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (Checksum.compute(f, IP_OFF, ihl) != 0) {
            stats.drop(Drop.BAD_IP_CHECKSUM);
            return;
        }
        int src = f.getInt(IP_OFF + 12);
        int dst = f.getInt(IP_OFF + 16);
        arp.learn(src, Ethernet.getMac(f, 6));
        int fragment = f.getShort(IP_OFF + 6) & 0xffff;
        if ((fragment & 0x3fff) != 0) {
            ByteBuffer whole = reassembler.add(f, ihl, totalLen, src, dst, fragment);
            armFragmentTimer();
            if (whole != null) {
                try {
                    packet(whole, 20, whole.getShort(IP_OFF + 2) & 0xffff, src, dst, checksumPending, linkOffload);
                } finally {
                    reassembler.release(whole);
                }
            }
            return;
        }
        packet(f, ihl, totalLen, src, dst, checksumPending, linkOffload);
    }

    private void packet(ByteBuffer f, int ihl, int totalLen, int src, int dst, boolean checksumPending, boolean linkOffload) {
        int protocol = f.get(IP_OFF + 9) & 0xff;
        PacketContext p = packet;
        p.family = 4;
        p.srcHi = 0;
        p.srcLo = src & 0xffff_ffffL;
        p.dstHi = 0;
        p.dstLo = dst & 0xffff_ffffL;
        p.protocol = protocol;
        p.ipOffset = IP_OFF;
        p.l4Offset = IP_OFF + ihl;
        p.l4Length = totalLen - ihl;
        p.checksumPending = checksumPending;
        p.linkOffload = linkOffload;
        if (dst == config.gateway()) {
            p.destination = Destination.GATEWAY;
        } else if (dst == config.hostAlias()) {
            p.destination = Destination.HOST_ALIAS;
        } else if (dst == -1 || dst == config.broadcast() || (dst >>> 28) == 14) {
            p.destination = Destination.BROADCAST;
            if (protocol == IpProtocols.UDP) {
                udp.input(p, f);
            } else {
                stats.drop(Drop.BROADCAST_IGNORED);
            }
            return;
        } else {
            p.destination = Destination.REMOTE;
            if (config.inSubnet(dst)) {
                stats.drop(Drop.NOT_FOR_US);
                return;
            }
            int ttl = f.get(IP_OFF + 8) & 0xff;
            if (ttl <= 1) {
                stats.drop(Drop.TTL_EXPIRED);
                icmp.error(f, ihl, totalLen, Icmp4.TIME_EXCEEDED, 0, config.gateway());
                return;
            }
            if (refused.containsIpv4(dst)) {
                stats.drop(Drop.METADATA_REFUSED);
                if (protocol == IpProtocols.TCP) {
                    tcp.refuse(p, f);
                } else {
                    icmp.error(f, ihl, totalLen, Icmp4.UNREACHABLE, Icmp4.ADMIN_PROHIBITED, config.gateway());
                }
                return;
            }
        }
        switch (protocol) {
            case IpProtocols.TCP -> tcp.input(p, f);
            case IpProtocols.UDP -> udp.input(p, f);
            case IpProtocols.ICMP -> icmp.input(p, f);
            default -> {
                stats.drop(Drop.UNSUPPORTED_PROTOCOL);
                if (p.toUs()) {
                    icmp.error(f, ihl, totalLen, Icmp4.UNREACHABLE, Icmp4.PROTOCOL_UNREACHABLE, dst);
                }
            }
        }
    }

    /** Keeps the reassembly timeout armed at the oldest datagram in progress, and nothing armed without one. */
    private void armFragmentTimer() {
        if (reassembler.inProgress() == 0) {
            loop.cancel(fragmentTimer);
            return;
        }
        long oldest = reassembler.oldestStart(System.nanoTime());
        long due = oldest + reassembler.timeoutNanos() + 1;
        if (!fragmentTimer.scheduled() || fragmentTimer.deadline() != due) {
            loop.schedule(fragmentTimer, due);
        }
    }

    // ---------------------------------------------------------------- to the guests

    /** Writes a 20-byte IPv4 header at {@link #IP_OFF}. */
    void ipHeader(ByteBuffer b, int totalLen, int protocol, int src, int dst, boolean dontFragment) {
        b.putInt(IP_OFF, 0x4500_0000 | totalLen);
        b.putInt(IP_OFF + 4, (ipId++ & 0xffff) << 16 | (dontFragment ? 0x4000 : 0));
        b.putInt(IP_OFF + 8, 64 << 24 | protocol << 16);
        b.putInt(IP_OFF + 12, src);
        b.putInt(IP_OFF + 16, dst);
        b.putShort(IP_OFF + 10, (short) Checksum.compute(b, IP_OFF, 20));
    }

    /** Sends a complete frame (Ethernet header filled in) from index 0 to {@code len}. */
    void sendFrame(ByteBuffer b, int len) {
        links.send(b, len, 0);
    }

    /** Sends the IP packet at {@link #IP_OFF} of {@code b} to the guest owning its destination address. */
    boolean sendPacket(ByteBuffer b, int frameLen, int gsoSize) {
        return sendPacket(b, frameLen, gsoSize, 0);
    }

    /** As {@link #sendPacket(ByteBuffer, int, int)}, through the guest {@code nextHop} when it is not 0. */
    private boolean sendPacket(ByteBuffer b, int frameLen, int gsoSize, int nextHop) {
        return !addressToGuest(b, nextHop) || links.send(b, frameLen, gsoSize);
    }

    /**
     * Fills in the Ethernet header towards the guest owning the packet's destination, or towards the
     * guest {@code nextHop} (not 0) that routes it; false (and dropped) when none is known.
     */
    private boolean addressToGuest(ByteBuffer b, int nextHop) {
        int dst = b.getInt(IP_OFF + 16);
        long mac;
        if (nextHop != 0) {
            mac = arp.macOf(nextHop);
            if (mac < 0) {
                stats.drop(Drop.NO_GUEST_MAC);
                return false;
            }
        } else if (dst == -1 || dst == config.broadcast()) {
            mac = Mac.BROADCAST;
        } else {
            mac = arp.macOf(dst);
            if (mac < 0) {
                stats.drop(Drop.NO_GUEST_MAC);
                return false;
            }
        }
        Ethernet.header(b, mac, config.gatewayMac(), Ethernet.TYPE_IPV4);
        return true;
    }

    @Override
    public ByteBuffer buffer() {
        return out;
    }

    @Override
    public int l4Offset(int family) {
        return IP_OFF + 20;
    }

    @Override
    public int maxSegment(int family) {
        return config.mtu() - 20;
    }

    @Override
    public long pseudoHeader(FlowKey k, int protocol, int length) {
        return Checksum.pseudoHeader(k.dstIp4(), k.guestIp4(), protocol, length);
    }

    @Override
    public boolean send(FlowKey k, int protocol, int length, int gsoSize, boolean dontFragment) {
        int totalLen = 20 + length;
        if (totalLen > config.mtu() && !dontFragment && gsoSize == 0) {
            fragment(k, protocol, length);
            return true;
        }
        ipHeader(out, totalLen, protocol, k.dstIp4(), k.guestIp4(), dontFragment);
        return sendPacket(out, IP_OFF + totalLen, gsoSize, k.nextHop4);
    }

    /** Sends the segment in {@link #out} as fragments that fit the MTU. */
    private void fragment(FlowKey k, int protocol, int length) {
        int chunk = (config.mtu() - 20) & ~7;
        int id = ipId++ & 0xffff;
        int l4 = IP_OFF + 20;
        ByteBuffer a = aux;
        for (int at = 0; at < length; at += chunk) {
            int len = Math.min(chunk, length - at);
            boolean more = at + len < length;
            a.clear();
            a.put(IP_OFF + 20, out, l4 + at, len);
            a.putInt(IP_OFF, 0x4500_0000 | (20 + len));
            a.putInt(IP_OFF + 4, id << 16 | (more ? 0x2000 : 0) | (at >> 3));
            a.putInt(IP_OFF + 8, 64 << 24 | protocol << 16);
            a.putInt(IP_OFF + 12, k.dstIp4());
            a.putInt(IP_OFF + 16, k.guestIp4());
            a.putShort(IP_OFF + 10, (short) Checksum.compute(a, IP_OFF, 20));
            sendPacket(a, IP_OFF + 20 + len, 0, k.nextHop4);
        }
    }

    @Override
    public boolean send(FlowKey k, int protocol, int headerLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        int headersEnd = IP_OFF + 20 + headerLength;
        ipHeader(out, 20 + headerLength + payloadLength, protocol, k.dstIp4(), k.guestIp4(), true);
        if (!addressToGuest(out, k.nextHop4)) {
            return true;
        }
        int frameLen = headersEnd + payloadLength;
        if (!links.gathers(Ethernet.getMac(out, 0))) {
            payload.limit(payload.capacity());
            out.put(headersEnd, payload, payloadOffset, payloadLength);
            return links.send(out, frameLen, gsoSize);
        }
        return links.send(out, headersEnd, payload, payloadOffset, payloadLength, gsoSize);
    }

    @Override
    public void unreachable(PacketContext p, ByteBuffer frame, Unreachable why) {
        int ihl = p.l4Offset - IP_OFF;
        int code = code(why);
        int from = why == Unreachable.PORT || why == Unreachable.PROTOCOL ? p.dst4() : config.gateway();
        icmp.error(frame, ihl, ihl + p.l4Length, Icmp4.UNREACHABLE, code, from);
    }

    @Override
    public void unreachable(FlowKey k, int protocol, long quoted, Unreachable why) {
        ByteBuffer o = out;
        o.clear();
        int totalLen = protocol == IpProtocols.TCP ? 40 : 28;
        o.putLong(IP_OFF + 20, quoted);
        o.putInt(IP_OFF, 0x4500_0000 | totalLen);
        o.putInt(IP_OFF + 4, 0);
        o.putInt(IP_OFF + 8, 64 << 24 | protocol << 16);
        o.putInt(IP_OFF + 12, k.guestIp4());
        o.putInt(IP_OFF + 16, k.dstIp4());
        int from = why == Unreachable.PORT || why == Unreachable.PROTOCOL ? k.dstIp4() : config.gateway();
        icmp.error(o, 20, totalLen, Icmp4.UNREACHABLE, code(why), from);
    }

    private static int code(Unreachable why) {
        return switch (why) {
            case HOST -> Icmp4.HOST_UNREACHABLE;
            case PORT -> Icmp4.PORT_UNREACHABLE;
            case PROTOCOL -> Icmp4.PROTOCOL_UNREACHABLE;
            case ADMIN_PROHIBITED -> Icmp4.ADMIN_PROHIBITED;
        };
    }

    // ---------------------------------------------------------------- status

    public List<Map<String, Object>> leases() {
        return dhcp.leases();
    }

    public int fragmentsInProgress() {
        return reassembler.inProgress();
    }
}
