package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.ip.IpOutput;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.ProtocolInput;

/**
 * The gateway's IPv6 side: checks each packet the switch hands up, walks its extension headers,
 * reassembles fragments, answers neighbour discovery, router solicitations, echo and stateless
 * DHCPv6 itself, and hands TCP and UDP up to the transports with their {@link PacketContext};
 * {@link #sender()} is the transports' way back down.
 *
 * <p>Not thread-safe: the stack calls it with its lock held. Steady-state packets allocate nothing:
 * replies are built in buffers allocated once.
 */
public final class Ip6Layer {
    public static final int ETH_HLEN = 14;
    public static final int ETHERTYPE_IPV6 = 0x86dd;
    static final int IP = ETH_HLEN;
    static final int PAYLOAD = IP + 40;
    static final int DEFAULT_HOP_LIMIT = 64;

    final Ip6Config config;
    final long gatewayMac;
    final int mtu;
    final long prefix;
    final long gatewayId;
    final long hostAliasId;
    /** The gateway's link-local interface identifier (fe80:: + the modified EUI-64 of its MAC). */
    final long linkLocalId;
    final CidrList refused;
    final Ip6Output output;
    final LongSupplier clock;
    final Neighbors neighbors = new Neighbors(1024);
    /** Echo replies and other replies as long as the request. */
    final ByteBuffer out;
    /** Errors, advertisements and other short control messages. */
    final ByteBuffer control = ByteBuffer.allocateDirect(PAYLOAD + Ip6Config.MIN_MTU + 64);
    private final Ip6Packet packet = new Ip6Packet();
    private final HeaderChain chain = new HeaderChain();
    final NeighborDiscovery discovery;
    final RouterAdvertiser advertiser;
    final Icmp6Errors errors;
    final Dhcp6Server dhcp;
    final Reassembler6 reassembler;
    private final Ip6Sender sender;
    private final PacketContext context = new PacketContext();
    private ProtocolInput tcp;
    private ProtocolInput udp;
    private boolean linkOffload;
    private EchoRelay relay;
    long echoReplies;

    /**
     * @param gatewayMac    the gateway's MAC, the source of every frame the layer sends
     * @param mtu           the link MTU, at least {@link Ip6Config#MIN_MTU}
     * @param refused       destinations no guest packet may reach (cloud metadata, link-local)
     * @param searchDomains the DNS search list handed out in advertisements and DHCPv6
     * @param out           the frame buffer the transports build into (shared by both families), at least 64 KiB
     * @param clock         nanoseconds, as {@link System#nanoTime()}
     */
    public Ip6Layer(Ip6Config config, long gatewayMac, int mtu, CidrList refused, List<String> searchDomains,
            ByteBuffer out, Ip6Output output, LongSupplier clock) {
        if (mtu < Ip6Config.MIN_MTU) {
            throw new IllegalArgumentException("IPv6 needs an MTU of at least " + Ip6Config.MIN_MTU + " (RFC 8200), not " + mtu);
        }
        this.config = config;
        this.gatewayMac = gatewayMac;
        this.mtu = mtu;
        this.prefix = config.prefix();
        this.gatewayId = config.gateway();
        this.hostAliasId = config.hostAlias();
        this.linkLocalId = Ip6.interfaceId(gatewayMac);
        this.refused = refused;
        this.output = output;
        this.clock = clock;
        this.out = out;
        this.sender = new Ip6Sender(this, out);
        this.discovery = new NeighborDiscovery(this);
        this.advertiser = new RouterAdvertiser(this, searchDomains);
        this.errors = new Icmp6Errors(this);
        this.dhcp = new Dhcp6Server(this, searchDomains);
        this.reassembler = new Reassembler6(this, 16, 30_000);
    }

    /** Sets the transports TCP and UDP go to; without them such packets are answered unreachable. */
    public void transports(ProtocolInput tcpInput, ProtocolInput udpInput) {
        tcp = tcpInput;
        udp = udpInput;
    }

    /** Hands the guests' echo requests to addresses not the gateway's to {@code echoRelay}. */
    public void echoRelay(EchoRelay echoRelay) {
        relay = echoRelay;
    }

    /** How the transports send IPv6 segments to the guests. */
    public IpOutput sender() {
        return sender;
    }

    public Ip6Config config() {
        return config;
    }

    /** Whether the address is one the gateway answers for: its own (global and link-local) or the host alias. */
    public boolean isOurs(long hi, long lo) {
        return hi == prefix && (lo == gatewayId || lo == hostAliasId) || hi == Ip6.LINK_LOCAL_PREFIX && lo == linkLocalId;
    }

    public boolean isHostAlias(long hi, long lo) {
        return hi == prefix && lo == hostAliasId;
    }

    /**
     * Handles the IPv6 frame from index 0 to {@code length} sent to the gateway's MAC or to a group;
     * {@code checksumPending}: the guest left the transport checksum to its link, {@code linkOffload}:
     * the guest's link takes large TCP segments.
     */
    public void input(ByteBuffer f, int length, boolean checksumPending, boolean linkOffload) {
        this.linkOffload = linkOffload;
        Ip6Packet p = packet;
        p.clear();
        if (length < PAYLOAD) {
            output.drop(Drop.TRUNCATED);
            return;
        }
        if ((f.get(IP) & 0xf0) != 0x60) {
            output.drop(Drop.BAD_IP_HEADER);
            return;
        }
        int payloadLength = f.getShort(IP + 4) & 0xffff;
        if (PAYLOAD + payloadLength > length) {
            output.drop(Drop.TRUNCATED);
            return;
        }
        p.ipOffset = IP;
        p.end = PAYLOAD + payloadLength;
        p.hopLimit = f.get(IP + 7) & 0xff;
        p.srcHi = f.getLong(IP + 8);
        p.srcLo = f.getLong(IP + 16);
        p.dstHi = f.getLong(IP + 24);
        p.dstLo = f.getLong(IP + 32);
        p.srcMac = (f.getShort(6) & 0xffffL) << 32 | f.getInt(8) & 0xffff_ffffL;
        p.checksumPending = checksumPending;
        packet(f, p, false);
    }

    private void packet(ByteBuffer f, Ip6Packet p, boolean reassembled) {
        if (Ip6.isMulticast(p.srcHi) || isOurs(p.srcHi, p.srcLo) || Ip6.isLoopback(p.srcHi, p.srcLo)) {
            output.drop(Drop.IPV6_BAD_SOURCE);
            return;
        }
        boolean multicast = Ip6.isMulticast(p.dstHi);
        boolean ours = !multicast && isOurs(p.dstHi, p.dstLo);
        boolean forwarded = !multicast && !ours;
        long now = clock.getAsLong();
        if (!Ip6.isUnspecified(p.srcHi, p.srcLo)) {
            neighbors.put(p.srcHi, p.srcLo, p.srcMac, now);
        }
        if (!multicast && !reassembled && !linkOffload && p.end - IP > mtu) {
            output.drop(Drop.OVERSIZED);
            errors.send(f, p, Icmp6.PACKET_TOO_BIG, 0, mtu);
            return;
        }
        int walked = chain.walk(f, p);
        switch (walked) {
            case HeaderChain.OK -> { }
            case HeaderChain.PARAMETER_PROBLEM -> {
                output.drop(Drop.IPV6_EXTENSION_HEADERS);
                if (ours || chain.problemCode != 1) {
                    errors.send(f, p, Icmp6.PARAMETER_PROBLEM, chain.problemCode, p.problemPointer);
                }
                return;
            }
            case HeaderChain.INCOMPLETE_FIRST_FRAGMENT -> {
                output.drop(Drop.FRAGMENT_TINY);
                return;
            }
            default -> {
                output.drop(Drop.IPV6_EXTENSION_HEADERS);
                return;
            }
        }
        if (p.fragmented()) {
            if (reassembled) {
                output.drop(Drop.IPV6_EXTENSION_HEADERS); // a fragment inside a fragment
                return;
            }
            int field = f.getShort(p.fragmentHeader + 2) & 0xffff;
            if ((field & 0xfff9) != 0) { // not an atomic fragment (RFC 6946): offset or more-fragments set
                ByteBuffer whole = reassembler.add(f, p, now);
                if (whole != null) {
                    try {
                        Ip6Packet q = packet;
                        long srcMac = p.srcMac;
                        q.clear();
                        q.ipOffset = IP;
                        q.end = whole.limit();
                        q.hopLimit = whole.get(IP + 7) & 0xff;
                        q.srcHi = whole.getLong(IP + 8);
                        q.srcLo = whole.getLong(IP + 16);
                        q.dstHi = whole.getLong(IP + 24);
                        q.dstLo = whole.getLong(IP + 32);
                        q.srcMac = srcMac;
                        packet(whole, q, true);
                    } finally {
                        reassembler.release(whole);
                    }
                }
                return;
            }
        }
        if (Ip6.isUnspecified(p.srcHi, p.srcLo) && p.protocol != HeaderChain.ICMPV6) {
            output.drop(Drop.IPV6_BAD_SOURCE);
            return;
        }
        if (forwarded && !forwardable(f, p)) {
            return;
        }
        switch (p.protocol) {
            case HeaderChain.ICMPV6 -> icmp(f, p, multicast, ours);
            case HeaderChain.UDP -> {
                if (p.l4Length() >= 8 && (f.getShort(p.l4Offset + 2) & 0xffff) == Dhcp6Server.SERVER_PORT
                        && (multicast && p.dstLo == Ip6.DHCP_SERVERS_LO && p.dstHi == Ip6.ALL_NODES_HI || ours)) {
                    dhcp.input(f, p);
                } else if (multicast) {
                    output.drop(Drop.BROADCAST_IGNORED);
                } else {
                    transport(f, p, false);
                }
            }
            case HeaderChain.TCP -> {
                if (multicast) {
                    output.drop(Drop.BROADCAST_IGNORED);
                } else {
                    transport(f, p, true);
                }
            }
            default -> {
                output.drop(Drop.UNSUPPORTED_PROTOCOL);
                if (ours && p.protocol != HeaderChain.NO_NEXT_HEADER) {
                    p.problemPointer = 6;
                    errors.send(f, p, Icmp6.PARAMETER_PROBLEM, 1, 6);
                }
            }
        }
    }

    /** Whether a packet for an address that is not the gateway's may leave through the host. */
    private boolean forwardable(ByteBuffer f, Ip6Packet p) {
        if (refused.containsIpv6(p.dstHi, p.dstLo)) {
            output.drop(Drop.METADATA_REFUSED);
            if (p.protocol == HeaderChain.TCP && tcp != null && !p.fragmented()) {
                tcp.refuse(context(p), f);
            } else {
                errors.send(f, p, Icmp6.DESTINATION_UNREACHABLE, Icmp6.ADMINISTRATIVELY_PROHIBITED, 0);
            }
            return false;
        }
        if (p.dstHi == prefix || Ip6.isLinkLocal(p.dstHi)) {
            output.drop(Drop.NOT_FOR_US); // another guest's (the switch delivers those) or nobody's
            return false;
        }
        if (p.dstHi == 0) {
            // ::1, ::, IPv4-mapped and -compatible addresses: the host's own or IPv4 in disguise
            output.drop(Drop.NOT_FOR_US);
            errors.send(f, p, Icmp6.DESTINATION_UNREACHABLE, Icmp6.NO_ROUTE, 0);
            return false;
        }
        if (Ip6.isLinkLocal(p.srcHi) || Ip6.isUnspecified(p.srcHi, p.srcLo)) {
            output.drop(Drop.IPV6_BAD_SOURCE); // a link-local source cannot leave the link
            return false;
        }
        if (p.hopLimit <= 1) {
            output.drop(Drop.TTL_EXPIRED);
            errors.send(f, p, Icmp6.TIME_EXCEEDED, 0, 0);
            return false;
        }
        return true;
    }

    private void transport(ByteBuffer f, Ip6Packet p, boolean isTcp) {
        ProtocolInput to = isTcp ? tcp : udp;
        if (to == null) {
            output.drop(Drop.UNSUPPORTED_PROTOCOL);
            errors.send(f, p, Icmp6.DESTINATION_UNREACHABLE, isOurs(p.dstHi, p.dstLo) ? Icmp6.PORT_UNREACHABLE : Icmp6.NO_ROUTE, 0);
            return;
        }
        if (!isTcp && !p.checksumPending && p.l4Length() >= 8 && f.getShort(p.l4Offset + 6) == 0) {
            output.drop(Drop.BAD_UDP_CHECKSUM); // optional in IPv4, mandatory in IPv6 (RFC 8200 8.1)
            return;
        }
        to.input(context(p), f);
    }

    /** The transports' view of the packet. */
    private PacketContext context(Ip6Packet p) {
        PacketContext c = context;
        c.family = 6;
        c.srcHi = p.srcHi;
        c.srcLo = p.srcLo;
        c.dstHi = p.dstHi;
        c.dstLo = p.dstLo;
        c.destination = isHostAlias(p.dstHi, p.dstLo) ? PacketContext.Destination.HOST_ALIAS
                : isOurs(p.dstHi, p.dstLo) ? PacketContext.Destination.GATEWAY : PacketContext.Destination.REMOTE;
        c.protocol = p.protocol;
        c.ipOffset = p.ipOffset;
        c.l4Offset = p.l4Offset;
        c.l4Length = p.l4Length();
        c.checksumPending = p.checksumPending;
        c.linkOffload = linkOffload;
        return c;
    }

    private void icmp(ByteBuffer f, Ip6Packet p, boolean multicast, boolean ours) {
        int off = p.l4Offset;
        int length = p.l4Length();
        if (length < 4) {
            output.drop(Drop.TRUNCATED);
            return;
        }
        if (!Icmp6.verify(f, IP, off, length, HeaderChain.ICMPV6)) {
            output.drop(Drop.BAD_ICMP_CHECKSUM);
            return;
        }
        int type = f.get(off) & 0xff;
        switch (type) {
            case Icmp6.NEIGHBOR_SOLICITATION -> discovery.solicitation(f, p);
            case Icmp6.NEIGHBOR_ADVERTISEMENT -> discovery.advertisement(f, p);
            case Icmp6.ROUTER_SOLICITATION -> advertiser.solicitation(f, p);
            case Icmp6.ROUTER_ADVERTISEMENT, Icmp6.REDIRECT -> output.drop(Drop.ROUTER_ADVERTISEMENT_FROM_GUEST);
            case Icmp6.ECHO_REQUEST -> {
                if (ours && !Ip6.isUnspecified(p.srcHi, p.srcLo)) {
                    echo(f, p);
                } else if (!multicast && !ours && relay != null
                        && relay.echo6(f, off, length, p.srcHi, p.srcLo, p.dstHi, p.dstLo, p.hopLimit, clock.getAsLong())) {
                    return;
                } else {
                    output.drop(Drop.ICMP_IGNORED);
                }
            }
            default -> output.drop(Drop.ICMP_IGNORED);
        }
    }

    private void echo(ByteBuffer f, Ip6Packet p) {
        int length = p.l4Length();
        if (40 + length > mtu) {
            output.drop(Drop.OVERSIZED); // the reply would need fragmenting; ping -6 -s stays within the MTU
            return;
        }
        ByteBuffer o = out;
        o.clear();
        o.put(PAYLOAD, f, p.l4Offset, length);
        o.put(PAYLOAD, (byte) Icmp6.ECHO_REPLY);
        send(o, length, HeaderChain.ICMPV6, DEFAULT_HOP_LIMIT, p.dstHi, p.dstLo, p.srcHi, p.srcLo, p.srcMac);
        echoReplies++;
    }

    /**
     * Sends the echo relay's ICMPv6 message at {@code [0, length)} of {@code message} (checksum field
     * zero) from {@code from} to the guest address {@code to}.
     */
    public void sendIcmp(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
        if (40 + length > mtu) {
            output.drop(Drop.OVERSIZED);
            return;
        }
        ByteBuffer o = out;
        o.clear();
        o.put(PAYLOAD, message, 0, length);
        header(o, length, HeaderChain.ICMPV6, DEFAULT_HOP_LIMIT, fromHi, fromLo, toHi, toLo);
        Icmp6.fill(o, IP, PAYLOAD, length, HeaderChain.ICMPV6, 2);
        if (addressToGuest(o)) {
            int frame = PAYLOAD + length;
            o.limit(frame).position(0);
            output.send(o, frame, 0);
        }
    }

    /**
     * Writes the Ethernet and IPv6 headers in front of the {@code payloadLength} bytes at
     * {@link #PAYLOAD} of {@code b}, fills in an ICMPv6 or UDP checksum, and sends the frame.
     */
    void send(ByteBuffer b, int payloadLength, int nextHeader, int hopLimit, long srcHi, long srcLo, long dstHi, long dstLo,
            long dstMac) {
        header(b, payloadLength, nextHeader, hopLimit, srcHi, srcLo, dstHi, dstLo);
        if (nextHeader == HeaderChain.ICMPV6) {
            Icmp6.fill(b, IP, PAYLOAD, payloadLength, nextHeader, 2);
        } else if (nextHeader == HeaderChain.UDP) {
            Icmp6.fill(b, IP, PAYLOAD, payloadLength, nextHeader, 6);
        }
        ethernet(b, dstMac);
        int length = PAYLOAD + payloadLength;
        b.limit(length).position(0);
        output.send(b, length, 0);
    }

    /** Writes a 40-byte IPv6 header at {@link #IP} of {@code b}: traffic class and flow label 0. */
    public static void header(ByteBuffer b, int payloadLength, int nextHeader, int hopLimit, long srcHi, long srcLo,
            long dstHi, long dstLo) {
        b.putInt(IP, 0x6000_0000);
        b.putShort(IP + 4, (short) payloadLength);
        b.put(IP + 6, (byte) nextHeader);
        b.put(IP + 7, (byte) hopLimit);
        b.putLong(IP + 8, srcHi);
        b.putLong(IP + 16, srcLo);
        b.putLong(IP + 24, dstHi);
        b.putLong(IP + 32, dstLo);
    }

    void ethernet(ByteBuffer b, long dstMac) {
        b.putShort(0, (short) (dstMac >>> 32));
        b.putInt(2, (int) dstMac);
        b.putShort(6, (short) (gatewayMac >>> 32));
        b.putInt(8, (int) gatewayMac);
        b.putShort(12, (short) ETHERTYPE_IPV6);
    }

    /**
     * Fills in the Ethernet header of the IPv6 packet at {@link #IP} of {@code b} towards the
     * guest owning its destination. False (counted, and the guests asked who has the address) when
     * no guest has shown the address yet; the sender's retransmission finds it learned.
     */
    public boolean addressToGuest(ByteBuffer b) {
        long dstHi = b.getLong(IP + 24);
        long dstLo = b.getLong(IP + 32);
        long mac;
        if (Ip6.isMulticast(dstHi)) {
            mac = Ip6.multicastMac(dstLo);
        } else {
            mac = neighbors.get(dstHi, dstLo);
            if (mac < 0) {
                output.drop(Drop.NO_GUEST_MAC);
                discovery.solicit(dstHi, dstLo);
                return false;
            }
        }
        ethernet(b, mac);
        return true;
    }

    /** The guest MAC of an address, or -1 when none is known. */
    public long neighbor(long hi, long lo) {
        return neighbors.get(hi, lo);
    }

    /** Runs what is due; returns the next deadline (nanoseconds on the layer's clock). */
    public long timers(long now) {
        reassembler.expire(now);
        long next = advertiser.timers(now);
        if (reassembler.inProgress() > 0 && next - (now + 1_000_000_000L) > 0) {
            next = now + 1_000_000_000L;
        }
        return next;
    }

    /** A snapshot for {@code slipway net status}. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prefix", config.prefixText());
        m.put("gateway", config.gatewayText());
        m.put("gatewayLinkLocal", Ip6.toString(Ip6.LINK_LOCAL_PREFIX, linkLocalId));
        m.put("hostAlias", config.hostAliasText());
        m.put("neighbors", neighbors.snapshot(64));
        m.put("routerAdvertisements", advertiser.sent);
        m.put("neighborAdvertisements", discovery.advertised);
        m.put("echoReplies", echoReplies);
        m.put("icmpErrors", errors.sent);
        m.put("dhcp6Replies", dhcp.replies);
        m.put("fragmentsInProgress", reassembler.inProgress());
        return m;
    }
}
