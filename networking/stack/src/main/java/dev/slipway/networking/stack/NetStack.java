package dev.slipway.networking.stack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.slipway.dns.api.DnsService;
import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestDatagramFlow;
import dev.slipway.networking.api.OutboundRouter;
import dev.slipway.networking.stack.host.HostEndpoints;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.icmp.NativePingSockets;
import dev.slipway.networking.stack.icmp.EchoService;
import dev.slipway.networking.stack.icmp.IcmpOutput;
import dev.slipway.networking.stack.ip.FamilyOutput;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.OutputBuffers;
import dev.slipway.networking.stack.ip4.Ip4Layer;
import dev.slipway.networking.stack.ip6.Ip6;
import dev.slipway.networking.stack.ip6.Ip6Layer;
import dev.slipway.networking.stack.ip6.Ip6Output;
import dev.slipway.networking.stack.link.Ethernet;
import dev.slipway.networking.stack.link.FrameTap;
import dev.slipway.networking.stack.link.Link;
import dev.slipway.networking.stack.link.Station;
import dev.slipway.networking.stack.link.Switch;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.loop.Timer;
import dev.slipway.networking.stack.tcp.Tcp;
import dev.slipway.networking.stack.transport.Transport;
import dev.slipway.networking.stack.udp.GuestFlow;
import dev.slipway.networking.stack.udp.Udp;

/**
 * The guest network: a virtual switch ({@link Switch}) whose gateway port terminates the guests'
 * Ethernet frames ({@link Ip4Layer}) and re-originates their TCP and UDP traffic ({@link Tcp},
 * {@link Udp}) from host endpoints ({@link HostEndpoints}), all on one {@link EventLoop}.
 *
 * <p>Threads: one reader per transport plus the event loop for the host sockets and deadlines.
 * All state is guarded by the loop's lock; frames are built in one direct output buffer under it,
 * so the steady state allocates nothing.
 */
public final class NetStack implements AutoCloseable {
    final NetConfig config;
    final CidrList refused;
    final Stats stats = new Stats();
    final EventLoop loop;
    final Switch links;
    final Ip4Layer ip4;
    /** Null when IPv6 is switched off. */
    final Ip6Layer ip6;
    final FamilyOutput output;
    final HostEndpoints endpoints;
    final Tcp tcp;
    final Udp udp;
    final EchoRelay echo;

    public NetStack(NetConfig config) {
        this.config = config;
        this.refused = config.refusedDestinations();
        this.loop = new EventLoop("slipway-net-loop", this::flush);
        this.links = new Switch(loop, stats, config.gatewayMac(), new Gateway());
        OutputBuffers buffers = new OutputBuffers();
        this.ip4 = new Ip4Layer(config, stats, buffers, links, loop);
        this.output = new FamilyOutput(ip4);
        this.ip6 = config.ipv6().enabled() ? new Ip6Layer(config.ipv6(), config.gatewayMac(), config.mtu(), refused,
                config.searchDomains(), buffers.out, new Ip6Link(), System::nanoTime) : null;
        if (ip6 != null) {
            output.v6(ip6.sender());
        }
        this.endpoints = new HostEndpoints(config, loop, stats);
        this.tcp = new Tcp(config, stats, loop, output, endpoints);
        this.udp = new Udp(config, stats, loop, output, endpoints, List.of(ip4.dhcp()));
        ip4.transports(tcp, udp);
        this.echo = EchoService.start(loop, new IcmpOutput() {
            @Override
            public void icmp4(int from, int to, ByteBuffer message, int length) {
                ip4.sendIcmp(from, to, message, length);
            }

            @Override
            public void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
                if (ip6 != null) {
                    ip6.sendIcmp(fromHi, fromLo, toHi, toLo, message, length);
                } else {
                    stats.drop(Drop.IPV6_UNSUPPORTED);
                }
            }
        }, refused, config.gateway());
        ip4.echoRelay(echo);
        if (ip6 != null) {
            echo.gateway6(config.ipv6().prefix(), config.ipv6().gateway());
            ip6.echoRelay(echo);
            ip6.transports(tcp, udp);
            loop.lock();
            try {
                loop.schedule(ip6Timer, System.nanoTime());
            } finally {
                loop.unlock();
            }
        }
        loop.start();
    }

    /** The IPv6 layer's deadlines (router advertisements, fragment expiry) on the loop. */
    private final Timer ip6Timer = new Timer() {
        @Override
        protected void expired(long now) {
            loop.schedule(this, ip6.timers(now));
        }
    };

    /** The IPv6 layer's view of the switch, the counters and the loop. */
    private final class Ip6Link implements Ip6Output {
        @Override
        public boolean send(ByteBuffer frame, int length, int gsoSize) {
            return links.send(frame, length, gsoSize);
        }

        @Override
        public boolean gathers(long dstMac) {
            return links.gathers(dstMac);
        }

        @Override
        public boolean send(ByteBuffer headers, int headersLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
            return links.send(headers, headersLength, payload, payloadOffset, payloadLength, gsoSize);
        }

        @Override
        public void drop(Drop reason) {
            stats.drop(reason);
        }

        @Override
        public void deadline(long nanos) {
            if (!ip6Timer.scheduled() || nanos - ip6Timer.deadline() < 0) {
                loop.schedule(ip6Timer, nanos);
            }
        }
    }

    /** The gateway's port on the switch: frames for it go to the layer of their EtherType. */
    private final class Gateway implements Station {
        @Override
        public void frame(ByteBuffer f, int len, boolean checksumPending, boolean linkOffload) {
            int type = f.getShort(12) & 0xffff;
            switch (type) {
                case Ethernet.TYPE_ARP -> ip4.arp(f, len);
                case Ethernet.TYPE_IPV4 -> ip4.input(f, len, checksumPending, linkOffload);
                case Ethernet.TYPE_IPV6 -> {
                    if (ip6 != null) {
                        ip6.input(f, len, checksumPending, linkOffload);
                    } else {
                        stats.drop(len >= Ethernet.HLEN + 40
                        && refused.containsIpv6(f.getLong(Ethernet.HLEN + 24), f.getLong(Ethernet.HLEN + 32))
                                ? Drop.METADATA_REFUSED : Drop.IPV6_UNSUPPORTED);
                    }
                }
                default -> stats.drop(Drop.UNKNOWN_ETHERTYPE);
            }
        }

        @Override
        public void endOfBatch() {
            tcp.flush();
        }
    }

    private void flush() {
        tcp.flush();
    }

    public NetConfig config() {
        return config;
    }

    /** Sets (or with {@code null} removes) the DNS service answering the gateway's port 53. */
    public void dns(DnsService service) {
        endpoints.dns(service);
    }

    /** Sets the router consulted for every new guest TCP connection; null connects every one as asked. */
    public void router(OutboundRouter outboundRouter) {
        endpoints.router(outboundRouter);
    }

    /** Starts (or with {@code null} stops) copying every switched frame to {@code tap}. */
    public void capture(FrameTap tap) {
        loop.lock();
        try {
            links.capture(tap);
        } finally {
            loop.unlock();
        }
    }

    /** Connects a guest: starts a reader thread for the transport. The link leaves the switch when the transport ends. */
    public void attach(Transport transport) {
        links.attach(transport);
    }

    /** The names of the attached transports. */
    public List<String> transports() {
        loop.lock();
        try {
            return links.names();
        } finally {
            loop.unlock();
        }
    }

    /** Why {@code address} cannot be a guest's, or null when it can. */
    public String unknownGuestReason(int address) {
        if (!config.inSubnet(address)) {
            return Ip4.toString(address) + " is outside the guest network " + Ip4.toString(config.subnet()) + "/"
                    + config.prefixLength();
        }
        if (address == config.gateway() || address == config.hostAlias()) {
            return Ip4.toString(address) + " is the network's own " + (address == config.gateway() ? "gateway" : "host alias");
        }
        if (address == config.subnet() || address == config.broadcast()) {
            return Ip4.toString(address) + " is not a host address of the guest network";
        }
        return null;
    }

    /**
     * Opens a TCP connection from the gateway to {@code guestIp:guestPort} for the accepted host
     * connection {@code channel}; the stack owns the channel when this returns.
     *
     * @throws IOException when the stack is closed or its connection table is full
     */
    public void connectToGuest(SocketChannel channel, int guestIp, int guestPort) throws IOException {
        loop.lock();
        try {
            if (!loop.running()) {
                throw new IOException("the network stack is stopped");
            }
            if (!tcp.openToGuest(channel, config.gateway(), guestIp, guestPort)) {
                throw new IOException("the network stack's TCP connection table is full");
            }
        } finally {
            loop.unlock();
        }
    }

    /** Why {@code address} cannot be a guest's IPv6 address, or null when it can. */
    public String unknownGuestReason(InetAddress address) {
        if (address instanceof Inet4Address) {
            return unknownGuestReason(Ip4.of(address));
        }
        if (ip6 == null) {
            return address.getHostAddress() + " is IPv6, and IPv6 is switched off for the guest network";
        }
        long hi = Ip6.hi(address);
        long lo = Ip6.lo(address);
        if (!config.ipv6().inPrefix(hi)) {
            return address.getHostAddress() + " is outside the guest network " + config.ipv6().prefixText();
        }
        if (ip6.isOurs(hi, lo)) {
            return address.getHostAddress() + " is the network's own " + (ip6.isHostAlias(hi, lo) ? "host alias" : "gateway");
        }
        if (lo == 0) {
            return address.getHostAddress() + " is the subnet-router anycast address, not a guest's";
        }
        return null;
    }

    /**
     * Opens a TCP connection from the gateway to {@code guest} (either family) for the accepted host
     * connection {@code channel}; the stack owns the channel when this returns.
     *
     * @throws IOException when the stack is closed or its connection table is full
     */
    public void connectToGuest(SocketChannel channel, InetSocketAddress guest) throws IOException {
        if (guest.getAddress() instanceof Inet4Address) {
            connectToGuest(channel, Ip4.of(guest.getAddress()), guest.getPort());
            return;
        }
        loop.lock();
        try {
            if (!loop.running() || ip6 == null) {
                throw new IOException(ip6 == null ? "IPv6 is switched off for the guest network" : "the network stack is stopped");
            }
            if (!tcp.openToGuest(channel, flowToGuest6(guest))) {
                throw new IOException("the network stack's TCP connection table is full");
            }
        } finally {
            loop.unlock();
        }
    }

    /** Opens a UDP flow from a gateway port to {@code guest} (either family); replies go to {@code replies}. */
    public GuestDatagramFlow openFlowToGuest(InetSocketAddress guest, DatagramReceiver replies) throws IOException {
        if (guest.getAddress() instanceof Inet4Address) {
            return openFlowToGuest(Ip4.of(guest.getAddress()), guest.getPort(), replies);
        }
        loop.lock();
        try {
            if (!loop.running() || ip6 == null) {
                throw new IOException(ip6 == null ? "IPv6 is switched off for the guest network" : "the network stack is stopped");
            }
            GuestFlow flow = udp.openToGuest(flowToGuest6(guest), replies);
            if (flow == null) {
                throw new IOException("the network stack's UDP flow table is full");
            }
            return flow;
        } finally {
            loop.unlock();
        }
    }

    private FlowKey flowToGuest6(InetSocketAddress guest) {
        return new FlowKey().set6(Ip6.hi(guest.getAddress()), Ip6.lo(guest.getAddress()), guest.getPort(),
                config.ipv6().prefix(), config.ipv6().gateway(), 0);
    }

    /**
     * Why {@code target} cannot be reached through the guest {@code via}, or null when it can: {@code via}
     * is a guest's IPv4 address and {@code target} an IPv4 unicast address outside the guest network
     * (an address the guest routes to, such as a container on its bridge).
     */
    public String unroutedReason(InetAddress target, InetAddress via) {
        if (!(via instanceof Inet4Address)) {
            return "the guest to go through (" + via.getHostAddress() + ") must have an IPv4 address";
        }
        String viaReason = unknownGuestReason(Ip4.of(via));
        if (viaReason != null) {
            return "the guest to go through: " + viaReason;
        }
        if (!(target instanceof Inet4Address)) {
            return target.getHostAddress() + " is IPv6: only IPv4 addresses are reached through a guest";
        }
        int t = Ip4.of(target);
        if (config.inSubnet(t)) {
            return target.getHostAddress() + " is on the guest network itself, not behind a guest";
        }
        if (target.isAnyLocalAddress() || target.isLoopbackAddress() || target.isMulticastAddress()
                || target.isLinkLocalAddress() || t == -1) {
            return target.getHostAddress() + " is not a unicast address a guest can route to";
        }
        return null;
    }

    /**
     * Opens a TCP connection from the gateway to {@code target}, behind the guest {@code via}: the
     * packets go to {@code via}'s link address and the guest forwards them. The stack owns the
     * channel when this returns.
     *
     * @throws IllegalArgumentException when {@link #unroutedReason} names a reason
     * @throws IOException when the stack is closed or its connection table is full
     */
    public void connectToGuest(SocketChannel channel, InetSocketAddress target, InetAddress via) throws IOException {
        FlowKey flow = routedFlow(target, via);
        loop.lock();
        try {
            if (!loop.running()) {
                throw new IOException("the network stack is stopped");
            }
            if (!tcp.openToGuest(channel, flow)) {
                throw new IOException("the network stack's TCP connection table is full");
            }
        } finally {
            loop.unlock();
        }
    }

    /**
     * Opens a UDP flow from a gateway port to {@code target}, behind the guest {@code via} (as
     * {@link #connectToGuest(SocketChannel, InetSocketAddress, InetAddress)}); replies go to {@code replies}.
     */
    public GuestDatagramFlow openFlowToGuest(InetSocketAddress target, InetAddress via, DatagramReceiver replies)
            throws IOException {
        FlowKey flow = routedFlow(target, via);
        loop.lock();
        try {
            if (!loop.running()) {
                throw new IOException("the network stack is stopped");
            }
            GuestFlow opened = udp.openToGuest(flow, replies);
            if (opened == null) {
                throw new IOException("the network stack's UDP flow table is full");
            }
            return opened;
        } finally {
            loop.unlock();
        }
    }

    private FlowKey routedFlow(InetSocketAddress target, InetAddress via) {
        String reason = unroutedReason(target.getAddress(), via);
        if (reason != null) {
            throw new IllegalArgumentException(reason);
        }
        FlowKey flow = new FlowKey().set(Ip4.of(target.getAddress()), target.getPort(), config.gateway(), 0);
        flow.nextHop4 = Ip4.of(via);
        return flow;
    }

    /** Opens a UDP flow from a gateway port to {@code guestIp:guestPort}; replies go to {@code replies}. */
    public GuestDatagramFlow openFlowToGuest(int guestIp, int guestPort, DatagramReceiver replies) throws IOException {
        loop.lock();
        try {
            if (!loop.running()) {
                throw new IOException("the network stack is stopped");
            }
            GuestFlow flow = udp.openToGuest(config.gateway(), guestIp, guestPort, replies);
            if (flow == null) {
                throw new IOException("the network stack's UDP flow table is full");
            }
            return flow;
        } finally {
            loop.unlock();
        }
    }

    /** A snapshot for {@code slipway net status}. */
    public Map<String, Object> status() {
        loop.lock();
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subnet", Ip4.toString(config.subnet()) + "/" + config.prefixLength());
            m.put("gateway", Ip4.toString(config.gateway()));
            m.put("hostAlias", Ip4.toString(config.hostAlias()));
            m.put("mtu", config.mtu());
            m.put("dns", endpoints.dns() != null);
            m.put("transports", links.names());
            m.put("leases", ip4.leases());
            m.put("ipv6", ip6 == null ? Map.of("enabled", false) : ip6.status());
            m.put("tcp", tcp.status());
            m.put("udp", udp.status());
            m.put("icmp", echo.status());
            m.put("traffic", stats.traffic());
            m.put("drops", stats.drops());
            return m;
        } finally {
            loop.unlock();
        }
    }

    public Stats stats() {
        return stats;
    }

    @Override
    public void close() {
        shutDown();
    }

    /**
     * What the stack leaves for its next version ({@link #handOver()}).
     *
     * @param tcp the guest TCP connections' descriptions ({@link dev.slipway.networking.stack.tcp.TcpHandover})
     * @param tcpResetRecords what resets each of them whatever the format ({@code long[]}: flow, seq, ack)
     * @param tcpReset how many connections were reset instead (their host side cannot be handed over)
     * @param udp the guest UDP flows' descriptions ({@link Udp#handOver})
     * @param leases the DHCP leases ({@code long[] {mac, ip, grantedEpochMillis}})
     * @param links one per link: detaches it when called (its reader stops; until then it answers
     *        ARP and DNS to the gateway and keeps every other frame for the next version) and
     *        returns its description with the held frames, or {@code null} when it cannot be
     *        handed over or was taken already
     */
    public record HandOver(List<Map<String, Object>> tcp, List<long[]> tcpResetRecords, int tcpReset,
                           List<Map<String, Object>> udp, List<long[]> echoFlows, List<long[]> leases,
                           List<Supplier<Map<String, Object>>> links, Consumer<BiConsumer<long[], ByteBuffer>> lateDnsAnswers) {}

    /**
     * Answers to the gateway's DNS queries that the DNS service gives after the next version took
     * the links (a forwarded name's answer arrives later, on the DNS server's thread): they go to
     * the sink the next version sets ({@link #lateDnsAnswer}), those before it wait for it. The
     * flow is {@code {family, guestHi, guestLo, guestPort, dstHi, dstLo, dstPort}}.
     */
    private final class LateAnswers implements Consumer<BiConsumer<long[], ByteBuffer>> {
        private static final int MAX_WAITING = 4096;
        private final java.util.ArrayDeque<Object[]> waiting = new java.util.ArrayDeque<>();
        private BiConsumer<long[], ByteBuffer> sink;

        @Override
        public synchronized void accept(BiConsumer<long[], ByteBuffer> next) {
            sink = next;
            for (Object[] w; (w = waiting.poll()) != null; ) {
                next.accept((long[]) w[0], ByteBuffer.wrap((byte[]) w[1]));
            }
        }

        /** With the old loop's lock held: true when the answer goes to (or waits for) the next version. */
        synchronized boolean divert(FlowKey k, ByteBuffer answer) {
            if (!links.links().isEmpty()) {
                return false; // the links are still this version's: it answers
            }
            long[] flow = k.toLongs();
            if (sink != null) {
                sink.accept(flow, answer);
            } else if (waiting.size() < MAX_WAITING) {
                byte[] copy = new byte[answer.remaining()];
                answer.get(answer.position(), copy);
                waiting.add(new Object[] {flow, copy});
            }
            return true;
        }
    }

    /** An answer to a query the previous version took to the gateway's DNS port ({@link HandOver#lateDnsAnswers()}). */
    public void lateDnsAnswer(long[] flow, ByteBuffer answer) {
        FlowKey k = FlowKey.fromLongs(flow);
        if (k == null) {
            return;
        }
        loop.lock();
        try {
            if (loop.running()) {
                udp.reply(k, answer);
            }
        } finally {
            loop.unlock();
        }
    }

    /**
     * Stops the stack for its next version: its links keep being read (ARP and DNS to the gateway
     * answered, every other frame held for the next version) until the next version takes them;
     * every TCP connection and UDP flow whose host side can go on is let go of without a segment,
     * the others are reset (RST to the guest) while the links still carry it.
     */
    public HandOver handOver() {
        LateAnswers late = new LateAnswers();
        loop.lock();
        try {
            links.hold(this::answeredWhileHandedOver);
            endpoints.divertLateAnswers(late::divert);
        } finally {
            loop.unlock();
        }
        loop.close();
        Tcp.HandedOver tcpFlows;
        List<Map<String, Object>> udpFlows;
        List<long[]> echoFlows;
        List<Link> attached;
        List<long[]> leases;
        loop.lock();
        try {
            long now = System.nanoTime();
            tcpFlows = tcp.handOver(now);
            udpFlows = udp.handOver(now);
            echoFlows = echo.handOver(now);
            echo.close();
            attached = links.links();
            leases = ip4.dhcp().export();
        } finally {
            loop.unlock();
        }
        loop.closeSelector();
        List<Supplier<Map<String, Object>>> handles = new ArrayList<>();
        for (Link l : attached) {
            handles.add(new LinkHandle(l));
        }
        return new HandOver(tcpFlows.connections(), tcpFlows.resetRecords(), tcpFlows.reset(), udpFlows, echoFlows, leases,
                List.copyOf(handles), late);
    }

    /** Detaches its link once, when the next version (or the state's reset) asks. */
    private static final class LinkHandle implements Supplier<Map<String, Object>> {
        private Link link;

        LinkHandle(Link link) {
            this.link = link;
        }

        @Override
        public synchronized Map<String, Object> get() {
            Link l = link;
            link = null;
            if (l == null) {
                return null;
            }
            Map<String, Object> description = l.detach();
            l.join();
            if (description == null) {
                l.close();
            }
            return description;
        }
    }

    /**
     * Frames a handed-over stack still answers: ARP and neighbour solicitations, and DNS over UDP to
     * the gateway (IPv4 not fragmented, IPv6 without extension headers), which need no connection
     * state; so the guest's lookups go on during an update.
     */
    private boolean answeredWhileHandedOver(ByteBuffer f) {
        int len = f.limit();
        if (len < Ethernet.HLEN) {
            return false;
        }
        int type = f.getShort(12) & 0xffff;
        if (type == Ethernet.TYPE_ARP) {
            return true;
        }
        if (type == Ethernet.TYPE_IPV6) {
            return ip6 != null && answeredWhileHandedOver6(f, len);
        }
        if (type != Ethernet.TYPE_IPV4 || len < Ethernet.HLEN + 20) {
            return false;
        }
        int ip = Ethernet.HLEN;
        int ihl = (f.get(ip) & 15) * 4;
        return f.get(ip + 9) == 17 && (f.getShort(ip + 6) & 0x3fff) == 0 && f.getInt(ip + 16) == config.gateway()
                && len >= ip + ihl + 8 && (f.getShort(ip + ihl + 2) & 0xffff) == HostEndpoints.DNS_PORT;
    }

    private static final int IP6_HLEN = 40, ICMP6 = 58, NEIGHBOR_SOLICITATION = 135;

    private boolean answeredWhileHandedOver6(ByteBuffer f, int len) {
        int ip = Ethernet.HLEN;
        if (len < ip + IP6_HLEN + 8) {
            return false;
        }
        int next = f.get(ip + 6) & 0xff;
        if (next == ICMP6) {
            return (f.get(ip + IP6_HLEN) & 0xff) == NEIGHBOR_SOLICITATION;
        }
        return next == 17 && f.getLong(ip + 24) == config.ipv6().prefix() && f.getLong(ip + 32) == config.ipv6().gateway()
                && (f.getShort(ip + IP6_HLEN + 2) & 0xffff) == HostEndpoints.DNS_PORT;
    }

    /**
     * Takes the flows a previous version handed over ({@link #handOver()}); those this version
     * cannot take are reset and named in {@code failures}. Before the links are attached, so that
     * their held frames find their connections; {@link #resumeAdoptedFlows()} once they are.
     *
     * @return how many TCP connections and UDP flows were taken: {@code {tcp, udp}}
     */
    public int[] adoptFlows(List<?> tcpFlows, List<?> udpFlows, List<String> failures) {
        loop.lock();
        try {
            return new int[] {tcp.adopt(tcpFlows, failures), udp.adopt(udpFlows, failures)};
        } finally {
            loop.unlock();
        }
    }

    /**
     * Takes the ICMP echo flows a previous version handed over ({@link HandOver#echoFlows}): the
     * same ping sockets, so a reply that arrived during the update still reaches the guest. Once
     * the links are attached: a reply waiting in a socket is relayed at once.
     *
     * @return how many were taken
     */
    public int adoptEchoFlows(List<?> echoFlows, List<String> failures) {
        loop.lock();
        try {
            return echo.adopt(echoFlows, System.nanoTime(), NativePingSockets::closeLetGo, failures);
        } finally {
            loop.unlock();
        }
    }

    /** Closes the ping sockets of echo flows nobody took (JDK and natives calls only: run by a state's reset too). */
    public static void discardEchoFlows(List<?> echoFlows) {
        for (Object o : echoFlows) {
            if (o instanceof long[] r && r.length > 6 && r[6] >= 0 && r[6] <= Integer.MAX_VALUE) {
                NativePingSockets.closeLetGo((int) r[6]);
            }
        }
    }

    /** After the links are attached: the taken-over connections send what they owe the guest and read their host sides again. */
    public void resumeAdoptedFlows() {
        loop.lock();
        try {
            tcp.resumeAdopted();
        } finally {
            loop.unlock();
        }
    }

    /** Resets, from their reset records, TCP connections handed over in a layout this version does not read. */
    public int resetHandedOverFlows(List<?> tcpResetRecords) {
        loop.lock();
        try {
            return tcp.resetHandedOver(tcpResetRecords);
        } finally {
            loop.unlock();
        }
    }

    /** Attaches a link a previous version handed over, switching the frames it held first. */
    public void attach(Transport transport, List<byte[]> heldFrames) {
        links.attach(transport, heldFrames);
    }

    /** Every guest connection is reset while the links still carry the resets; then the links go. */
    private void shutDown() {
        List<Link> attached;
        loop.lock();
        try {
            attached = links.links();
        } finally {
            loop.unlock();
        }
        loop.close();
        loop.lock();
        try {
            tcp.closeAll();
            udp.closeAll();
            echo.close();
        } finally {
            loop.unlock();
        }
        for (Link l : attached) {
            l.close();
        }
        loop.closeSelector();
        for (Link l : attached) {
            l.join();
        }
    }

    /** Takes the leases a previous version granted ({@link HandOver#leases()}). */
    public void restoreLeases(List<long[]> leases) {
        loop.lock();
        try {
            ip4.dhcp().restore(leases);
        } finally {
            loop.unlock();
        }
    }
}
