package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.dns.api.DnsService;
import dev.slipway.networking.api.OutboundRouter;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.PacketContext.Destination;
import dev.slipway.networking.stack.loop.EventLoop;

/**
 * Where the guests' flows end on the host side: the in-process DNS server for the gateway's port
 * 53, the outbound router itself for connections it intercepts (the proxy's interceptor, handed
 * the guest connection as an {@link InterceptedStream}), or a host socket to the
 * destination itself (the host's loopback for the host alias). TCP and UDP ask here and see only
 * {@link HostStream} and {@link HostDatagrams}.
 */
public final class HostEndpoints implements HostConnector {
    public static final int DNS_PORT = 53;
    private static final Logger LOG = LoggerFactory.getLogger(HostEndpoints.class);

    /** What a datagram to one of the gateway's own ports is answered with. */
    public interface DatagramReplies {
        /** Sends {@code payload} (position to limit) to the flow's guest from the flow's destination; lock held. */
        void reply(FlowKey flow, ByteBuffer payload);
    }

    private final NetConfig config;
    private final EventLoop loop;
    private final Stats stats;
    private volatile DnsService dns;
    private volatile OutboundRouter router;
    private long dnsQueries;

    public HostEndpoints(NetConfig config, EventLoop loop, Stats stats) {
        this.config = config;
        this.loop = loop;
        this.stats = stats;
    }

    public void dns(DnsService service) {
        dns = service;
    }

    public DnsService dns() {
        return dns;
    }

    public void router(OutboundRouter outboundRouter) {
        router = outboundRouter;
    }

    private volatile java.util.function.BiPredicate<FlowKey, ByteBuffer> lateAnswers;

    /**
     * Once the stack is handed over: an answer to a query to the gateway that comes back from the
     * DNS service is first offered to {@code divert} (run with the loop's lock held), which returns
     * true when it took it (for the next version of the stack).
     */
    public void divertLateAnswers(java.util.function.BiPredicate<FlowKey, ByteBuffer> divert) {
        lateAnswers = divert;
    }

    @Override
    public HostStream openStream(FlowKey k, Destination destination, HostStream.Events events) throws IOException {
        boolean gateway = destination == Destination.GATEWAY;
        DnsService service = dns;
        boolean dnsQuery = gateway && k.dstPort == DNS_PORT && service != null;
        InetSocketAddress redirect = null;
        OutboundRouter r = router;
        if (r != null && !dnsQuery && k.family == 4) {
            redirect = route(r, k);
            if (redirect == OutboundRouter.REFUSE) {
                return null;
            }
            if (redirect == OutboundRouter.INTERCEPT) {
                return intercept(r, k, events);
            }
        }
        if (redirect == null && gateway) {
            if (!dnsQuery) {
                return null;
            }
            return new DnsStream(this, loop, stats, new InetSocketAddress(guestAddress(k), k.guestPort), events);
        }
        InetSocketAddress target = redirect != null ? redirect : new InetSocketAddress(destinationAddress(k, destination), k.dstPort);
        // an IPv4 socket rather than the default dual-stack one: shorter connect and close paths in the kernel
        SocketChannel channel = target.getAddress() instanceof Inet4Address
                ? SocketChannel.open(StandardProtocolFamily.INET) : SocketChannel.open();
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return SocketStream.connect(loop, channel, target, events);
    }

    /** The router's own endpoint: the guest's connection handed over, no host socket in between. */
    private HostStream intercept(OutboundRouter r, FlowKey k, HostStream.Events events) throws ConnectException {
        InterceptedStream stream = new InterceptedStream(loop, k, events);
        try {
            r.intercept(stream.connection());
        } catch (RuntimeException e) {
            LOG.warn("outbound router failed to take an intercepted connection", e);
            throw new ConnectException("outbound router failed: " + e);
        }
        return stream;
    }

    private static InetSocketAddress route(OutboundRouter r, FlowKey k) {
        InetSocketAddress redirect;
        try {
            redirect = r.route(k.guestIp4(), k.guestPort, k.dstIp4(), k.dstPort);
        } catch (RuntimeException e) {
            LOG.warn("outbound router failed; refusing the connection", e);
            return OutboundRouter.REFUSE;
        }
        if (redirect == OutboundRouter.INTERCEPT) {
            return redirect;
        }
        if (redirect != null && redirect.isUnresolved()) { // REFUSE, or a target the stack cannot connect to
            return OutboundRouter.REFUSE;
        }
        return redirect;
    }

    @Override
    public HostStream accepted(SocketChannel channel, HostStream.Events events) throws IOException {
        return SocketStream.accepted(loop, channel, events);
    }

    /** The kinds of host side {@link #adopt} takes: a host socket's description, a DNS stream's, or an interceptor's connection. */
    @Override
    public HostStream adopt(Object handedOver, FlowKey k, HostStream.Events events) throws IOException {
        if (handedOver instanceof java.util.Map<?, ?> m && m.containsKey(SocketStream.CHANNEL)) {
            return SocketStream.adopt(loop, m, events);
        }
        if (handedOver instanceof java.util.Map<?, ?> m && m.containsKey(DnsStream.CLIENT)) {
            return DnsStream.adopt(this, loop, stats, m, events);
        }
        if (handedOver instanceof java.util.Map<?, ?> m && HandedInterceptedStream.describes(m)) {
            return HandedInterceptedStream.adopt(loop, m, events);
        }
        throw new IOException("unknown host side " + (handedOver == null ? "null" : handedOver.getClass().getName()));
    }

    /**
     * Closes the host side of a handed-over flow nobody goes on with: a host TCP socket with a
     * reset (SO_LINGER 0), so its peer does not wait either. JDK calls only: also run by a state's
     * reset after its bundle stopped.
     */
    public static void discard(Object handedOver) {
        if (handedOver instanceof java.util.Map<?, ?> m) {
            m.values().forEach(HostEndpoints::discard);
            return;
        }
        if (!(handedOver instanceof java.nio.channels.Channel channel)) {
            return;
        }
        try {
            if (channel instanceof SocketChannel socket && socket.isConnected()) {
                socket.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("setting SO_LINGER on a discarded host socket", e);
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a discarded host socket", e);
        }
    }

    /** Goes on with the host socket of a guest UDP flow a previous version handed over ({@link HostDatagrams#handOver()}). */
    public HostDatagrams adoptDatagrams(Object handedOver, HostDatagrams.Events events) throws IOException {
        if (!(handedOver instanceof java.nio.channels.DatagramChannel channel) || !channel.isOpen()) {
            throw new IOException("not an open host UDP socket: " + handedOver);
        }
        return SocketDatagrams.adopt(loop, channel, events);
    }

    /**
     * The host side of a new guest UDP flow to a destination other than the gateway.
     *
     * @throws IOException when no host socket can reach it (ICMP unreachable)
     */
    public HostDatagrams openDatagrams(FlowKey k, Destination destination, HostDatagrams.Events events) throws IOException {
        return SocketDatagrams.open(loop, new InetSocketAddress(destinationAddress(k, destination), k.dstPort), events);
    }

    /**
     * A datagram from the guest to one of the gateway's own UDP ports (its payload from the
     * buffer's position to its limit), answered through {@code replies}.
     *
     * @return null when answered, else why it is dropped (the guest gets port unreachable)
     */
    public Drop gatewayDatagram(FlowKey k, ByteBuffer payload, DatagramReplies replies) {
        DnsService service = dns;
        if (k.dstPort != DNS_PORT) {
            return Drop.NOT_FOR_US;
        }
        if (service == null) {
            return Drop.DNS_UNAVAILABLE;
        }
        dnsQueries++;
        FlowKey flow = k.copy();
        try {
            service.answer(payload, new InetSocketAddress(guestAddress(k), k.guestPort), false, answer -> {
                if (answer == null) {
                    return;
                }
                loop.lock();
                try {
                    java.util.function.BiPredicate<FlowKey, ByteBuffer> late = lateAnswers;
                    if (late == null || !late.test(flow, answer)) {
                        replies.reply(flow, answer);
                    }
                } finally {
                    loop.unlock();
                }
            });
        } catch (RuntimeException e) {
            stats.drop(Drop.DNS_UNAVAILABLE);
            LOG.warn("the DNS service failed on a query", e);
        }
        return null;
    }

    public long dnsQueries() {
        return dnsQueries;
    }

    private InetAddress destinationAddress(FlowKey k, Destination destination) {
        if (destination == Destination.HOST_ALIAS) {
            return k.family == 4 ? config.hostLoopback() : address6(0, 1);
        }
        return k.family == 4 ? Ip4.toInet(k.dstIp4()) : address6(k.dstHi, k.dstLo);
    }

    private static InetAddress guestAddress(FlowKey k) {
        return k.family == 4 ? Ip4.toInet(k.guestIp4()) : address6(k.guestHi, k.guestLo);
    }

    private static InetAddress address6(long hi, long lo) {
        try {
            return Inet6Address.getByAddress(ByteBuffer.allocate(16).putLong(hi).putLong(lo).array());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }
}
