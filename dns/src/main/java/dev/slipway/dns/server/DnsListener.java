package dev.slipway.dns.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;
import dev.slipway.dns.api.DnsService;

/**
 * The host sockets (UDP and TCP) of Slipway's DNS server, opened when the framework property
 * {@value #LISTEN_PROPERTY} or the configuration's {@code listen} names an address.
 *
 * <p>This component only moves bytes; the answers come from whichever {@link DnsService} is
 * registered. When that service is replaced (new zone logic, a new platform bundle), the sockets
 * stay open and queries arriving in between are held, then answered by the new service, so a
 * swap loses no query.
 *
 * <p>When the dns bundle itself is updated, the bound sockets pass to the new version through the
 * {@link HandoverParking}: this version goes on reading and holding queries until the new version
 * takes the sockets (item {@code release}), then stops; the new version answers what was held and
 * reads on, so queries that arrive during the swap are answered by the new version.
 * TCP clients mid-connection are closed (they reconnect); UDP queries held for a missing service pass
 * along. When the bundle stops without an update, the sockets close.
 */
@Component(configurationPid = DnsConfig.PID, immediate = true, service = {})
public final class DnsListener {

    public static final String LISTEN_PROPERTY = "slipway.dns-listen";

    private static final Logger LOG = LoggerFactory.getLogger(DnsListener.class);
    private static final int MAX_HELD = 4096;
    private static final long HOLD_NANOS = 5_000_000_000L;
    private static final long TCP_IDLE_NANOS = 30_000_000_000L;
    private static final int TCP_MAX_OUTSTANDING = 32;
    private static final int MAX_REPLY_CACHE = 4096;

    private final DnsStats stats;
    private final String frameworkListen;
    private volatile DnsService service;
    private volatile ClientFilter filter;
    private volatile int maxTcpConnections;
    private volatile int threads;
    private InetSocketAddress bound;
    private int boundThreads;
    private volatile List<Loop> loops = List.of();
    /** Hand-over to the next version; absent when the deploy bundle is not running. */
    private final HandoverParking parking;
    private final String owner;

    /** The layout of the state this version hands over and takes: see {@link #park()}. */
    static final int HANDOVER_FORMAT = 1;

    @Activate
    public DnsListener(BundleContext context, @Reference DnsStats stats, DnsConfig config,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL) HandoverParking parking) {
        this(stats, config, context.getProperty(LISTEN_PROPERTY), parking, context.getBundle().getSymbolicName() + "/listener");
    }

    DnsListener(DnsStats stats, DnsConfig config, String frameworkListen) {
        this(stats, config, frameworkListen, null, "dev.slipway.dns/listener");
    }

    DnsListener(DnsStats stats, DnsConfig config, String frameworkListen, HandoverParking parking, String owner) {
        this.stats = stats;
        this.frameworkListen = frameworkListen;
        this.parking = parking;
        this.owner = owner;
        HandoverClaim claim = parking == null ? null : parking.claim(owner);
        if (claim != null) {
            takeOver(claim, config);
        }
        modified(config);
    }

    /** What the previous version of this bundle left: its bound sockets, adopted when they are what the configuration asks for. */
    private synchronized void takeOver(HandoverClaim claim, DnsConfig config) {
        HandoverState state = claim.state();
        if (state.formatVersion() != HANDOVER_FORMAT) {
            claim.refuse("listener state format " + state.formatVersion() + ", this version reads " + HANDOVER_FORMAT);
            return;
        }
        threads = Math.max(1, Math.min(16, config.listenerThreads()));
        String text = !config.listen().isBlank() ? config.listen() : frameworkListen;
        InetSocketAddress wanted = text == null || text.isBlank() ? null : DnsServer.parseAddress(text, 0);
        InetSocketAddress handed = state.item("address", InetSocketAddress.class);
        @SuppressWarnings("unchecked")
        List<DatagramChannel> udp = state.item("udp", List.class);
        ServerSocketChannel tcp = state.item("tcp", ServerSocketChannel.class);
        if (wanted == null || handed == null || udp == null || udp.isEmpty() || tcp == null
                || !wanted.getAddress().equals(handed.getAddress()) || wanted.getPort() != 0 && wanted.getPort() != handed.getPort()) {
            claim.refuse("the configuration asks for " + wanted + ", the previous version listened on " + handed);
            return;
        }
        @SuppressWarnings("unchecked")
        Supplier<Map<String, Object>> release = state.item("release", Supplier.class);
        Map<String, Object> released = release == null ? state.items() : release.get();
        List<Loop> adopted = new ArrayList<>();
        try {
            for (int i = 0; i < udp.size(); i++) {
                adopted.add(new Loop(udp.get(i), i == 0 ? tcp : null, udp.size() > 1));
            }
        } catch (IOException | RuntimeException e) {
            for (Loop l : adopted) {
                l.detach();
            }
            claim.release("cannot serve the handed-over sockets: " + e);
            throw new IllegalStateException("cannot serve the DNS sockets handed over on " + handed, e);
        }
        @SuppressWarnings("unchecked")
        List<byte[]> heldQueries = released.get("held.queries") instanceof List<?> q ? (List<byte[]>) q : null;
        @SuppressWarnings("unchecked")
        List<InetSocketAddress> heldClients = released.get("held.clients") instanceof List<?> c ? (List<InetSocketAddress>) c : null;
        if (heldQueries != null && heldClients != null) {
            long now = System.nanoTime();
            for (int i = 0; i < Math.min(heldQueries.size(), heldClients.size()); i++) {
                adopted.get(0).held.add(new Held(heldQueries.get(i), heldClients.get(i), null, now));
            }
        }
        loops = List.copyOf(adopted);
        bound = wanted;
        boundThreads = adopted.size();
        for (Loop l : loops) {
            l.thread.start();
        }
        LOG.info("DNS: took over the listener on {} from the previous version ({} UDP threads)", handed, adopted.size());
        claim.accept(List.of("listener " + handed + " (UDP and TCP)"), List.of());
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setDnsService(DnsService service) {
        this.service = service;
        for (Loop l : loops) {
            l.selector.wakeup();
        }
    }

    void unsetDnsService(DnsService service) {
        if (this.service == service) {
            this.service = null;
        }
    }

    @Modified
    synchronized void modified(DnsConfig config) {
        filter = ClientFilter.of(config.allowedClients());
        maxTcpConnections = Math.max(1, config.maxTcpConnections());
        threads = Math.max(1, Math.min(16, config.listenerThreads()));
        String text = !config.listen().isBlank() ? config.listen() : frameworkListen;
        InetSocketAddress wanted = text == null || text.isBlank() ? null : DnsServer.parseAddress(text, 0);
        if (wanted != null && wanted.equals(bound) && threads == boundThreads && !loops.isEmpty()) {
            return;
        }
        stop();
        if (wanted != null) {
            try {
                loops = open(wanted);
                bound = wanted;
                boundThreads = threads;
                LOG.info("DNS: listening on {} (UDP and TCP, {} UDP threads)", loops.get(0).address(), loops.size());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen for DNS on " + wanted, e);
            }
        }
    }

    /**
     * Opens the sockets; with port 0, until UDP and TCP get the same free port. With more than one
     * thread, each has its own UDP socket on the same address (SO_REUSEPORT: the kernel spreads the
     * clients over them); the first thread also serves TCP.
     */
    private List<Loop> open(InetSocketAddress address) throws IOException {
        Loop first = null;
        for (int attempt = 0; first == null; attempt++) {
            try {
                first = new Loop(address, true, threads > 1);
            } catch (java.net.BindException e) {
                if (address.getPort() != 0 || attempt >= 20) {
                    throw e;
                }
            }
        }
        List<Loop> opened = new ArrayList<>(List.of(first));
        if (first.reusePort) {
            InetSocketAddress actual = first.address();
            try {
                for (int i = 1; i < threads; i++) {
                    opened.add(new Loop(actual, false, true));
                }
            } catch (IOException | RuntimeException e) {
                for (Loop l : opened) {
                    l.close();
                }
                throw e;
            }
        }
        return List.copyOf(opened);
    }

    @Deactivate
    synchronized void deactivate() {
        if (parking != null && !loops.isEmpty() && parking.restartExpected(owner.substring(0, owner.indexOf('/')))) {
            park();
        } else {
            stop();
        }
    }

    /**
     * Leaves the bound sockets to the next version: items {@code address} (InetSocketAddress),
     * {@code udp} (List of DatagramChannel, one per thread), {@code tcp} (ServerSocketChannel),
     * {@code held.queries} / {@code held.clients} (UDP queries held for a missing service).
     */
    private void park() {
        List<Loop> parked = loops;
        InetSocketAddress address = parked.get(0).address();
        List<DatagramChannel> udp = new ArrayList<>();
        for (Loop l : parked) {
            udp.add(l.udp);
        }
        ServerSocketChannel tcp = parked.get(0).tcp;
        loops = List.of();
        bound = null;
        // The loops go on reading until the next version takes the sockets: with the DNS service gone
        // they hold what arrives, so the swap's gap is not limited by the sockets' receive buffers.
        Supplier<Map<String, Object>> release = () -> detach(parked);
        Map<String, Object> items = new HashMap<>();
        items.put("address", address);
        items.put("udp", List.copyOf(udp));
        items.put("tcp", tcp);
        items.put("release", release);
        List<String> summary = new ArrayList<>(List.of("listener " + address + " (UDP and TCP)"));
        parking.deposit(new HandoverState(owner, HANDOVER_FORMAT, items, summary, () -> {
            detach(parked);
            for (DatagramChannel channel : udp) {
                closeQuietly(channel);
            }
            closeQuietly(tcp);
        }));
    }

    /**
     * Stops the parked loops' reading (their sockets stay open) and returns what they held:
     * {@code held.queries} (List of byte[]) and {@code held.clients} (List of InetSocketAddress).
     * TCP clients are closed; they reconnect.
     */
    private static Map<String, Object> detach(List<Loop> parked) {
        List<byte[]> heldQueries = new ArrayList<>();
        List<InetSocketAddress> heldClients = new ArrayList<>();
        for (Loop l : parked) {
            l.detach();
            for (Held h : l.held) {
                if (h.tcp == null) {
                    heldQueries.add(h.query);
                    heldClients.add(h.client);
                }
            }
            l.held.clear();
        }
        return Map.of("held.queries", List.copyOf(heldQueries), "held.clients", List.copyOf(heldClients));
    }

    private void stop() {
        for (Loop l : loops) {
            l.close();
        }
        loops = List.of();
        bound = null;
    }

    /** The address actually bound (with the real port when 0 was asked), or {@code null}. */
    public synchronized InetSocketAddress address() {
        List<Loop> current = loops;
        return current.isEmpty() ? null : current.get(0).address();
    }

    /** A query that arrived while no service was registered. */
    private record Held(byte[] query, InetSocketAddress client, Connection tcp, long arrived) {}

    /** Sends UDP answers to one client; kept per client so that answering allocates nothing. */
    private final class UdpReply implements DnsService.Reply {
        private final DatagramChannel channel;
        private final InetSocketAddress client;

        UdpReply(DatagramChannel channel, InetSocketAddress client) {
            this.channel = channel;
            this.client = client;
        }

        @Override
        public void send(ByteBuffer answer) {
            if (answer == null) {
                return;
            }
            try {
                if (channel.send(answer, client) == 0) {
                    stats.dropped(DnsStats.Drop.SEND_FAILED);
                }
            } catch (IOException e) {
                stats.dropped(DnsStats.Drop.SEND_FAILED);
            }
        }
    }

    /** One TCP client: length-prefixed queries in, length-prefixed answers out, in any order. */
    private final class Connection implements DnsService.Reply {
        final SocketChannel channel;
        final InetSocketAddress client;
        final Loop owner;
        final ByteBuffer in = ByteBuffer.allocate(2 + 65535);
        final ConcurrentLinkedQueue<ByteBuffer> out = new ConcurrentLinkedQueue<>();
        ByteBuffer writing;
        SelectionKey key;
        volatile int outstanding;
        long lastActive;
        volatile boolean closed;

        Connection(SocketChannel channel, InetSocketAddress client, Loop owner) {
            this.channel = channel;
            this.client = client;
            this.owner = owner;
        }

        @Override
        public void send(ByteBuffer answer) {
            if (answer != null && !closed) {
                ByteBuffer framed = ByteBuffer.allocate(2 + answer.remaining());
                framed.putShort((short) answer.remaining()).put(answer).flip();
                out.add(framed);
            }
            synchronized (this) {
                outstanding--;
            }
            owner.wake(this);
        }
    }

    private final class Loop implements Runnable {
        final Selector selector;
        final DatagramChannel udp;
        final ServerSocketChannel tcp;
        final Thread thread;
        final ByteBuffer in = ByteBuffer.allocateDirect(65536);
        final Map<SocketAddress, UdpReply> replies = new HashMap<>();
        final ArrayDeque<Held> held = new ArrayDeque<>();
        final List<Connection> connections = new ArrayList<>();
        final ConcurrentLinkedQueue<Connection> toWrite = new ConcurrentLinkedQueue<>();
        volatile boolean running = true;
        volatile boolean keepSockets;
        final boolean reusePort;
        long nextCheck;

        Loop(InetSocketAddress address, boolean withTcp, boolean wantReusePort) throws IOException {
            selector = Selector.open();
            DatagramChannel udpChannel = null;
            try {
                udpChannel = DatagramChannel.open(address.getAddress() instanceof java.net.Inet6Address
                        ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
                udp = udpChannel;
                reusePort = wantReusePort && udp.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
                if (reusePort) {
                    udp.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                }
                udp.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                udp.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                udp.bind(address);
                udp.configureBlocking(false);
                udp.register(selector, SelectionKey.OP_READ);
                InetSocketAddress actual = (InetSocketAddress) udp.getLocalAddress();
                if (withTcp) {
                    tcp = ServerSocketChannel.open();
                    tcp.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    tcp.bind(actual, 128);
                    tcp.configureBlocking(false);
                    tcp.register(selector, SelectionKey.OP_ACCEPT);
                } else {
                    tcp = null;
                }
            } catch (IOException | RuntimeException e) {
                selector.close();
                if (udpChannel != null) {
                    udpChannel.close();
                }
                throw e;
            }
            thread = new Thread(this, withTcp ? "slipway-dns-listener" : "slipway-dns-listener-udp");
            thread.setDaemon(true);
            thread.start();
        }

        /** A loop on sockets the previous version bound; its thread is started by the caller. */
        Loop(DatagramChannel udp, ServerSocketChannel tcp, boolean reusePort) throws IOException {
            selector = Selector.open();
            try {
                this.udp = udp;
                this.tcp = tcp;
                this.reusePort = reusePort;
                udp.configureBlocking(false);
                udp.register(selector, SelectionKey.OP_READ);
                if (tcp != null) {
                    tcp.configureBlocking(false);
                    tcp.register(selector, SelectionKey.OP_ACCEPT);
                }
            } catch (IOException | RuntimeException e) {
                selector.close();
                throw e;
            }
            thread = new Thread(this, tcp != null ? "slipway-dns-listener" : "slipway-dns-listener-udp");
            thread.setDaemon(true);
        }

        /**
         * Ends the loop but leaves its UDP and TCP server sockets open (for the next version) and its
         * held queries in {@link #held}; returns how many TCP clients it closed.
         */
        int detach() {
            keepSockets = true;
            int clients = connections.size();
            if (thread.isAlive()) {
                close();
            } else {
                closeQuietly(selector);
            }
            return clients;
        }

        InetSocketAddress address() {
            try {
                return (InetSocketAddress) udp.getLocalAddress();
            } catch (IOException e) {
                return null;
            }
        }

        void wake(Connection c) {
            toWrite.add(c);
            if (Thread.currentThread() != thread) {
                selector.wakeup();
            }
        }

        void close() {
            running = false;
            selector.wakeup();
            try {
                thread.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    selector.select(held.isEmpty() ? 1000 : 50);
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext()) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        try {
                            if (!key.isValid()) {
                                continue;
                            }
                            if (key.channel() == udp) {
                                readUdp();
                            } else if (key.channel() == tcp) {
                                accept();
                            } else {
                                Connection c = (Connection) key.attachment();
                                if (key.isReadable()) {
                                    readTcp(c);
                                }
                                if (key.isValid() && key.isWritable()) {
                                    writeTcp(c);
                                }
                            }
                        } catch (IOException e) {
                            if (key.attachment() instanceof Connection c) {
                                closeConnection(c);
                            } else {
                                LOG.debug("DNS listener: socket error", e);
                            }
                        } catch (RuntimeException e) {
                            LOG.warn("DNS listener: unexpected error", e);
                            stats.dropped(DnsStats.Drop.INTERNAL);
                            if (key.attachment() instanceof Connection c) {
                                closeConnection(c);
                            }
                        }
                    }
                    Connection c;
                    while ((c = toWrite.poll()) != null) {
                        try {
                            writeTcp(c);
                        } catch (IOException e) {
                            closeConnection(c);
                        }
                    }
                    replayHeld();
                    housekeeping();
                }
            } catch (IOException | ClosedSelectorException e) {
                LOG.error("DNS listener loop failed", e);
            } finally {
                for (Connection c : new ArrayList<>(connections)) {
                    closeConnection(c);
                }
                if (keepSockets) {
                    held.removeIf(h -> h.tcp != null);
                    closeQuietly(selector);
                    return;
                }
                for (Held h : held) {
                    stats.dropped(DnsStats.Drop.HELD_EXPIRED);
                }
                held.clear();
                closeQuietly(udp);
                if (tcp != null) {
                    closeQuietly(tcp);
                }
                closeQuietly(selector);
            }
        }

        private void readUdp() throws IOException {
            for (int i = 0; i < 256; i++) {
                in.clear();
                SocketAddress from = udp.receive(in);
                if (from == null) {
                    return;
                }
                in.flip();
                DnsService s = service;
                if (s == null || !held.isEmpty()) {
                    hold(in, (InetSocketAddress) from, null);
                    continue;
                }
                s.answer(in, (InetSocketAddress) from, false, udpReply(from));
            }
        }

        private UdpReply udpReply(SocketAddress from) {
            UdpReply reply = replies.get(from);
            if (reply == null) {
                if (replies.size() >= MAX_REPLY_CACHE) {
                    replies.clear();
                }
                reply = new UdpReply(udp, (InetSocketAddress) from);
                replies.put(from, reply);
            }
            return reply;
        }

        private void hold(ByteBuffer query, InetSocketAddress client, Connection tcpClient) {
            if (held.size() >= MAX_HELD) {
                stats.dropped(DnsStats.Drop.HELD_OVERFLOW);
                if (tcpClient != null) {
                    tcpClient.send(null);
                }
                return;
            }
            byte[] copy = new byte[query.remaining()];
            query.get(query.position(), copy);
            held.add(new Held(copy, client, tcpClient, System.nanoTime()));
        }

        private void replayHeld() {
            DnsService s = service;
            long now = System.nanoTime();
            while (!held.isEmpty()) {
                Held h = held.peek();
                if (now - h.arrived > HOLD_NANOS) {
                    held.poll();
                    stats.dropped(DnsStats.Drop.HELD_EXPIRED);
                    if (h.tcp != null) {
                        h.tcp.send(null);
                    }
                    continue;
                }
                if (s == null) {
                    return;
                }
                held.poll();
                try {
                    s.answer(ByteBuffer.wrap(h.query), h.client, h.tcp != null,
                            h.tcp != null ? h.tcp : udpReply(h.client));
                } catch (RuntimeException e) {
                    LOG.warn("DNS listener: the DNS service failed", e);
                    stats.dropped(DnsStats.Drop.INTERNAL);
                }
            }
        }

        private void accept() throws IOException {
            for (int i = 0; i < 64; i++) {
                SocketChannel channel = tcp.accept();
                if (channel == null) {
                    return;
                }
                InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
                if (!filter.allows(remote)) {
                    stats.dropped(DnsStats.Drop.NOT_ALLOWED);
                    closeQuietly(channel);
                    continue;
                }
                if (connections.size() >= maxTcpConnections) {
                    stats.dropped(DnsStats.Drop.TCP_LIMIT);
                    closeQuietly(channel);
                    continue;
                }
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Connection c = new Connection(channel, remote, this);
                c.lastActive = System.nanoTime();
                c.key = channel.register(selector, SelectionKey.OP_READ, c);
                connections.add(c);
            }
        }

        private void readTcp(Connection c) throws IOException {
            int n = c.channel.read(c.in);
            if (n < 0) {
                if (c.outstanding <= 0 && c.out.isEmpty() && c.writing == null) {
                    closeConnection(c);
                } else {
                    c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
                }
                return;
            }
            c.lastActive = System.nanoTime();
            c.in.flip();
            while (c.in.remaining() >= 2) {
                int length = ((c.in.get(c.in.position()) & 0xFF) << 8) | (c.in.get(c.in.position() + 1) & 0xFF);
                if (length == 0) {
                    stats.dropped(DnsStats.Drop.TCP_OVERSIZED);
                    closeConnection(c);
                    return;
                }
                if (c.in.remaining() < 2 + length) {
                    break;
                }
                ByteBuffer frame = c.in.slice(c.in.position() + 2, length);
                c.in.position(c.in.position() + 2 + length);
                synchronized (c) {
                    c.outstanding++;
                }
                DnsService s = service;
                if (s == null || !held.isEmpty()) {
                    hold(frame, c.client, c);
                } else {
                    s.answer(frame, c.client, true, c);
                }
            }
            c.in.compact();
            if (c.outstanding >= TCP_MAX_OUTSTANDING) {
                c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
            }
        }

        private void writeTcp(Connection c) throws IOException {
            if (c.closed) {
                return;
            }
            while (true) {
                if (c.writing == null) {
                    c.writing = c.out.poll();
                    if (c.writing == null) {
                        break;
                    }
                }
                c.channel.write(c.writing);
                if (c.writing.hasRemaining()) {
                    c.key.interestOps(c.key.interestOps() | SelectionKey.OP_WRITE);
                    return;
                }
                c.writing = null;
                c.lastActive = System.nanoTime();
            }
            int ops = c.key.interestOps() & ~SelectionKey.OP_WRITE;
            if (c.outstanding < TCP_MAX_OUTSTANDING && !c.channel.socket().isInputShutdown()) {
                ops |= SelectionKey.OP_READ;
            }
            c.key.interestOps(ops);
        }

        private void housekeeping() {
            long now = System.nanoTime();
            if (now - nextCheck < 0) {
                return;
            }
            nextCheck = now + 1_000_000_000L;
            for (Connection c : new ArrayList<>(connections)) {
                if (c.outstanding <= 0 && c.writing == null && c.out.isEmpty() && now - c.lastActive > TCP_IDLE_NANOS) {
                    closeConnection(c);
                }
            }
        }

        private void closeConnection(Connection c) {
            c.closed = true;
            connections.remove(c);
            if (c.key != null) {
                c.key.cancel();
            }
            closeQuietly(c.channel);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.debug("closing", e);
        }
    }
}
