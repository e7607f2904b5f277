package dev.slipway.networking.ports;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.networking.api.GuestConnector;
import dev.slipway.networking.api.GuestDatagramFlow;

/**
 * Published ports: host listeners whose connections and datagrams the network stack carries into
 * the guest. The listeners live here, so a new stack service (a reconfigured or restarted network)
 * takes over new connections without the host ports closing. What is published is kept in
 * ConfigAdmin (PID {@value #PID}, property {@value #STORED}) and published again on start.
 *
 * <p>While the stack is replaced by a live update (the deploy bundle expects its bundle to restart)
 * the published ports wait: nothing is accepted or read, so new connections wait in the listening
 * socket's backlog and datagrams in its receive buffer until the next stack is there (at most
 * {@link #STACK_WAIT_NANOS}); a connection handed to the outgoing stack as it went is kept for the
 * next one. Without an update, a port with no stack behind it closes what it accepts.
 */
@Component(service = PortForwarder.class, immediate = true)
public final class PortForwarder {
    private static final Logger LOG = LoggerFactory.getLogger(PortForwarder.class);
    static final String PID = "dev.slipway.ports";
    static final String STORED = "published";
    /** A UDP client's flow into the guest ends after this long without a datagram either way. */
    static final long UDP_IDLE_NANOS = 60_000_000_000L;
    private static final int ACCEPTS_PER_WAKE = 256;
    private static final int DATAGRAMS_PER_WAKE = 64;
    /** How long published ports wait for the next stack during a live update before closing what comes. */
    static final long STACK_WAIT_NANOS = 15_000_000_000L;
    /** Connections handed to a stack just as it went, kept for the next one. */
    private static final int MAX_KEPT_CONNECTIONS = 1024;

    private final ConfigurationAdmin configurationAdmin;
    private final Selector selector;
    private final Thread loop;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ByteBuffer datagram = ByteBuffer.allocateDirect(65536);
    /** Guarded by {@code this}. */
    private final LinkedHashMap<String, Listener> published = new LinkedHashMap<>();
    /** Guarded by {@code this}: publications that are not stored. */
    private final java.util.HashSet<String> transientKeys = new java.util.HashSet<>();
    private volatile boolean running = true;
    private volatile GuestConnector connector;
    long accepted, refusedNoNetwork, connectFailures;
    /** Tells whether the stack is being replaced by an update; absent without the deploy bundle. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile HandoverParking parking;
    /** Until when ({@link System#nanoTime}) the ports wait for the next stack; 0 when they do not. */
    private volatile long waitForStackUntil;
    long stackWaitNanos = STACK_WAIT_NANOS;
    /** Loop thread only: whether the listeners' interest is off while the ports wait for the next stack. */
    private boolean paused;
    /** Loop thread only: connections accepted for a stack that went before it took them. */
    private final List<Object[]> keptConnections = new ArrayList<>();
    long waitedForStack;

    @Activate
    public PortForwarder(@Reference ConfigurationAdmin configurationAdmin) throws IOException {
        this.configurationAdmin = configurationAdmin;
        this.selector = Selector.open();
        this.loop = new Thread(this::run, "slipway-ports");
        loop.setDaemon(true);
        loop.start();
        for (String s : stored()) {
            try {
                PublishedPort p = PublishedPort.fromStored(s);
                open(p, true);
                LOG.info("published again: {} {} -> {}", p.protocol(), p.local(), p.shownRemote());
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot publish '{}' again: {} (it stays stored; unexpose it to forget it)", s, e.getMessage());
            }
        }
    }

    /** Binds ports this process may not bind itself; absent when no helper client runs. */
    private volatile HelperClient helper;
    private final HostListeners hostListeners = new HostListeners(() -> helper);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindHelper(HelperClient h) {
        helper = h;
    }

    void unbindHelper(HelperClient h) {
        if (helper == h) {
            helper = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindConnector(GuestConnector c) {
        connector = c;
        waitForStackUntil = 0;
        execute(() -> {
            if (connector != c) {
                return; // unbound again before this ran: resuming now would end the wait for the next stack
            }
            // flows a live update handed on go on from the same gateway port; the others are opened again
            dropClosedFlows();
            resume();
        });
    }

    void unbindConnector(GuestConnector c) {
        boolean update = false;
        if (connector == c) {
            update = replacedByUpdate(c);
            if (update) {
                waitForStackUntil = Math.max(1, System.nanoTime() + stackWaitNanos);
                LOG.info("the network stack is being updated: published ports wait for the next one");
            }
            connector = null;
        }
        if (!update) {
            execute(this::dropFlows);
        }
    }

    /** Whether {@code c}'s bundle is being restarted by a live update (it comes back soon). */
    private boolean replacedByUpdate(GuestConnector c) {
        HandoverParking p = parking;
        if (p == null) {
            return false;
        }
        org.osgi.framework.Bundle bundle = org.osgi.framework.FrameworkUtil.getBundle(c.getClass());
        return p.restartExpected(bundle != null ? bundle.getSymbolicName() : STACK_BUNDLE);
    }

    /** The network stack's bundle, for a connector loaded outside a framework. */
    private static final String STACK_BUNDLE = "dev.slipway.networking.stack";

    /** True while the ports wait for the next stack: nothing is accepted or read. */
    private boolean waitingForStack() {
        long until = waitForStackUntil;
        return until != 0 && connector == null && System.nanoTime() - until < 0;
    }

    /** Loop thread: the listeners stop being selected, so what arrives waits in their sockets. */
    private void pause() {
        if (paused) {
            return;
        }
        paused = true;
        waitedForStack++;
        for (SelectionKey k : selector.keys()) {
            if (k.isValid()) {
                k.interestOps(0);
            }
        }
    }

    /** Loop thread: the listeners are selected again, and connections kept for the next stack go to it (or close). */
    private void resume() {
        if (paused) {
            paused = false;
            for (SelectionKey k : selector.keys()) {
                if (k.isValid() && k.attachment() instanceof Listener l) {
                    k.interestOps(l.interest());
                }
            }
        }
        GuestConnector c = connector;
        for (Object[] kept : keptConnections) {
            SocketChannel ch = (SocketChannel) kept[0];
            try {
                if (c == null) {
                    refusedNoNetwork++;
                    ch.close();
                } else {
                    c.connect(ch, (InetSocketAddress) kept[1]);
                }
            } catch (IOException | RuntimeException e) {
                connectFailures++;
                closeQuietly(ch);
            }
        }
        keptConnections.clear();
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing a published port's connection", e);
        }
    }

    // ---------------------------------------------------------------- publishing

    /**
     * Publishes {@code port}: validated, bound, stored. Nothing is left behind when any step fails.
     *
     * @param allAddresses whether a local side on all addresses ({@code :PORT}, {@code 0.0.0.0}) is allowed
     * @throws IllegalArgumentException for a bad request (the message says what)
     * @throws IOException when the host port cannot be bound or the request cannot be stored
     */
    public void expose(PublishedPort port, boolean allAddresses) throws IOException {
        expose(port, allAddresses, true);
    }

    /**
     * Publishes {@code port}; {@code persist} false for publications another component owns and
     * makes again on its own start (the docker socket), which are then not stored.
     */
    synchronized void expose(PublishedPort port, boolean allAddresses, boolean persist) throws IOException {
        if (published.containsKey(port.key())) {
            throw new IllegalStateException("proxy already running for " + port.protocol() + " on " + port.local());
        }
        InetSocketAddress local = port.localAddress();
        if (local != null && local.getAddress().isAnyLocalAddress() && !allAddresses) {
            throw new IllegalArgumentException("publishing on all addresses (" + port.local() + ") needs the explicit "
                    + "all-addresses flag (slipway expose --all-addresses, or allowAllAddresses=true in " + PID + ")");
        }
        InetSocketAddress remote = port.remoteAddress();
        java.net.InetAddress via = port.viaAddress();
        GuestConnector c = connector;
        if (c == null) {
            throw new IllegalStateException("the network stack is not running");
        }
        if (via == null) {
            c.checkGuestAddress(remote.getAddress());
        } else {
            c.checkRoute(remote.getAddress(), via);
        }
        open(port, false);
        if (!persist) {
            transientKeys.add(port.key());
        }
        try {
            store();
        } catch (IOException | RuntimeException e) {
            close(port.key());
            throw e;
        }
        LOG.info("published {} {} -> {}", port.protocol(), port.local(), port.shownRemote());
    }

    public synchronized void unexpose(String protocol, String local) throws IOException {
        String key = protocol + "/" + local;
        if (!published.containsKey(key)) {
            throw new IllegalStateException("proxy not found");
        }
        close(key);
        store();
        LOG.info("unpublished {} {}", protocol, local);
    }

    /** What is published, sorted as gvisor-tap-vsock sorts it: by local side, then protocol. */
    public synchronized List<PublishedPort> list() {
        List<PublishedPort> l = new ArrayList<>();
        for (Listener x : published.values()) {
            l.add(x.port);
        }
        l.sort(Comparator.comparing(PublishedPort::local).thenComparing(PublishedPort::protocol));
        return l;
    }

    /** Guarded by {@code this}: ports a container asked for that could not be published, by key. */
    private final LinkedHashMap<String, String> conflicts = new LinkedHashMap<>();

    /** Records why {@code key} could not be published; true when that is news (to log it once). */
    synchronized boolean setConflict(String key, String why) {
        return !why.equals(conflicts.put(key, why));
    }

    synchronized void clearConflict(String key) {
        conflicts.remove(key);
    }

    /** Forgets every conflict but those of {@code keys}. */
    synchronized void retainConflicts(java.util.Set<String> keys) {
        conflicts.keySet().retainAll(keys);
    }

    /** Ports asked for but not published, with why. */
    public synchronized List<String> conflicts() {
        return List.copyOf(conflicts.values());
    }

    public synchronized boolean allowAllAddresses() {
        Object v = properties().get("allowAllAddresses");
        return v != null && Boolean.parseBoolean(v.toString());
    }

    private Listener open(PublishedPort port, boolean restoring) throws IOException {
        Listener l = switch (port.protocol()) {
            case PublishedPort.TCP -> new TcpListener(port, hostListeners.tcp(port));
            case PublishedPort.UNIX -> new TcpListener(port, HostListeners.bindUnix(port.localPath()));
            case PublishedPort.UDP -> new UdpListener(port, hostListeners.udp(port));
            default -> throw new IllegalArgumentException("unknown protocol " + port.protocol());
        };
        published.put(port.key(), l);
        execute(() -> l.register());
        return l;
    }

    private void close(String key) {
        transientKeys.remove(key);
        Listener l = published.remove(key);
        if (l instanceof UdpListener u) {
            // the socket closes now; the client flows belong to the loop
            u.closeChannel();
            execute(u::dropFlows);
            releasedByLoop();
        } else if (l != null) {
            l.close();
            releasedByLoop();
        }
    }

    /**
     * Waits until the loop has passed a select: a closed channel that is registered with the selector
     * keeps its port bound until the selector lets its key go, and the loop sleeps without a timeout.
     * So the port (or socket file) is free when unexpose returns.
     */
    private void releasedByLoop() {
        if (Thread.currentThread() == loop) {
            return;
        }
        CountDownLatch passed = new CountDownLatch(1);
        execute(passed::countDown);
        try {
            if (!passed.await(2, TimeUnit.SECONDS)) {
                LOG.debug("the published ports loop did not pass a select within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- storage

    private Dictionary<String, Object> properties() {
        try {
            Dictionary<String, Object> d = configurationAdmin.getConfiguration(PID, "?").getProperties();
            return d == null ? new Hashtable<>() : d;
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", PID, e.getMessage());
            return new Hashtable<>();
        }
    }

    private List<String> stored() {
        Object v = properties().get(STORED);
        List<String> l = new ArrayList<>();
        if (v instanceof String[] a) {
            l.addAll(List.of(a));
        } else if (v instanceof java.util.Collection<?> c) {
            c.forEach(x -> l.add(String.valueOf(x)));
        } else if (v instanceof String s && !s.isBlank()) {
            l.add(s);
        }
        return l;
    }

    private void store() throws IOException {
        Configuration c = configurationAdmin.getConfiguration(PID, "?");
        Dictionary<String, Object> d = c.getProperties();
        if (d == null) {
            d = new Hashtable<>();
        }
        List<String> all = new ArrayList<>();
        for (Listener l : published.values()) {
            if (!transientKeys.contains(l.port.key())) {
                all.add(l.port.stored());
            }
        }
        d.put(STORED, all.toArray(String[]::new));
        c.update(d);
    }

    // ---------------------------------------------------------------- the event loop

    private void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    /**
     * The loop sleeps until a published port is ready or a task arrives (both wake the selector);
     * it wakes by the clock only while UDP client flows exist, to expire the idle ones once a second.
     * An idle runtime with no UDP flows never wakes here.
     */
    private void run() {
        long lastExpiry = System.nanoTime();
        while (running) {
            try {
                long timeoutMillis = anyUdpFlow() ? 1000 : 0; // 0: until woken
                long until = waitForStackUntil;
                if (paused && until != 0) {
                    long left = Math.max(1, (until - System.nanoTime()) / 1_000_000 + 1);
                    timeoutMillis = timeoutMillis == 0 ? left : Math.min(timeoutMillis, left);
                }
                selector.select(key -> {
                    try {
                        ((Listener) key.attachment()).ready();
                    } catch (java.nio.channels.ClosedChannelException e) {
                        LOG.debug("a published port closed while it was served", e);
                    } catch (IOException | RuntimeException e) {
                        LOG.warn("published port {} failed: {}", ((Listener) key.attachment()).port.key(), e.toString());
                    }
                }, timeoutMillis);
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
                if (paused && !waitingForStack()) {
                    if (connector == null) {
                        LOG.warn("no network stack came back within {} ms: published ports close what they accept", stackWaitNanos / 1_000_000L);
                        dropFlows(); // kept for the next version, which did not come
                    }
                    waitForStackUntil = 0;
                    resume();
                }
                long now = System.nanoTime();
                // not while an update runs: a flow closed now would be taken by the next version all the same
                if (now - lastExpiry > 1_000_000_000L && !waitingForStack()) {
                    lastExpiry = now;
                    for (SelectionKey k : selector.keys()) {
                        if (k.attachment() instanceof UdpListener u) {
                            u.expire(now);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (running) {
                    LOG.warn("published ports loop step failed", e);
                }
            }
        }
    }

    private void dropFlows() {
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof UdpListener u) {
                u.dropFlows();
            }
        }
    }

    private void dropClosedFlows() {
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof UdpListener u) {
                u.dropClosedFlows();
            }
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (this) {
            for (Listener l : published.values()) {
                l.close();
            }
            published.clear();
        }
        running = false;
        selector.wakeup();
        try {
            loop.join(5000);
            for (Object[] kept : keptConnections) {
                closeQuietly((SocketChannel) kept[0]);
            }
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.debug("closing the selector", e);
        }
    }

    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> ports = new ArrayList<>();
        for (PublishedPort p : list()) {
            ports.add(p.via().isEmpty() ? Map.of("protocol", p.protocol(), "local", p.local(), "remote", p.remote())
                    : Map.of("protocol", p.protocol(), "local", p.local(), "remote", p.remote(), "via", p.via()));
        }
        m.put("published", ports);
        m.put("network", connector != null ? "attached" : "not running");
        m.put("accepted", accepted);
        m.put("closedWithoutNetwork", refusedNoNetwork);
        m.put("waitedForStack", waitedForStack);
        m.put("connectFailures", connectFailures);
        return m;
    }

    // ---------------------------------------------------------------- listeners

    private abstract class Listener {
        final PublishedPort port;
        final InetSocketAddress remote;
        /** The guest {@link #remote} is behind, or null when it is the guest itself. */
        final java.net.InetAddress via;

        Listener(PublishedPort port) {
            this.port = port;
            this.remote = port.remoteAddress();
            this.via = port.viaAddress();
        }

        abstract void register();

        /** The operations this listener is selected for. */
        abstract int interest();

        abstract void ready() throws IOException;

        abstract void close();
    }

    /** TCP and Unix stream sockets: each accepted connection becomes a TCP connection into the guest. */
    private final class TcpListener extends Listener {
        final ServerSocketChannel server;
        final boolean unix;

        TcpListener(PublishedPort port, ServerSocketChannel server) {
            super(port);
            this.server = server;
            this.unix = PublishedPort.UNIX.equals(port.protocol());
        }

        @Override
        void register() {
            try {
                server.register(selector, paused ? 0 : interest(), this);
            } catch (ClosedChannelException e) {
                LOG.debug("published port closed before it was registered", e);
            }
        }

        @Override
        int interest() {
            return SelectionKey.OP_ACCEPT;
        }

        @Override
        void ready() throws IOException {
            for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
                if (waitingForStack()) {
                    pause();
                    return;
                }
                SocketChannel ch = server.accept();
                if (ch == null) {
                    return;
                }
                accepted++;
                GuestConnector c = connector;
                if (c == null) {
                    refusedNoNetwork++;
                    ch.close();
                    continue;
                }
                try {
                    if (!unix) {
                        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    }
                    if (via == null) {
                        c.connect(ch, remote);
                    } else {
                        c.connect(ch, remote, via);
                    }
                } catch (IOException | RuntimeException e) {
                    if (waitingForStack() && keptConnections.size() < MAX_KEPT_CONNECTIONS) {
                        keptConnections.add(new Object[] {ch, remote}); // the stack went as it was given this one
                        continue;
                    }
                    if (connectFailures++ < 20) {
                        LOG.warn("cannot carry a connection on {} to {}: {}", port.local(), port.shownRemote(), e.getMessage());
                    }
                    ch.close();
                }
            }
        }

        @Override
        void close() {
            try {
                server.close();
            } catch (IOException e) {
                LOG.debug("closing a published port", e);
            }
            if (unix) {
                try {
                    Files.deleteIfExists(Path.of(port.local()));
                } catch (IOException e) {
                    LOG.debug("removing a published socket", e);
                }
            }
        }
    }

    /** UDP: each host client gets its own flow into the guest, ended after {@link #UDP_IDLE_NANOS} of silence. */
    private boolean anyUdpFlow() {
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof UdpListener u && !u.clients.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private final class UdpListener extends Listener {
        final DatagramChannel channel;
        final HashMap<SocketAddress, ClientFlow> clients = new HashMap<>();

        UdpListener(PublishedPort port, DatagramChannel channel) {
            super(port);
            this.channel = channel;
        }

        final class ClientFlow {
            final GuestDatagramFlow flow;
            volatile long lastActive = System.nanoTime();

            ClientFlow(GuestConnector c, SocketAddress client) throws IOException {
                dev.slipway.networking.api.DatagramReceiver replies = payload -> {
                    lastActive = System.nanoTime();
                    try {
                        channel.send(payload, client);
                    } catch (IOException e) {
                        LOG.debug("a reply to a UDP client was not sent", e);
                    }
                };
                flow = via == null ? c.openDatagramFlow(remote, replies) : c.openDatagramFlow(remote, via, replies);
            }
        }

        @Override
        void register() {
            try {
                channel.register(selector, paused ? 0 : interest(), this);
            } catch (ClosedChannelException e) {
                LOG.debug("published port closed before it was registered", e);
            }
        }

        @Override
        int interest() {
            return SelectionKey.OP_READ;
        }

        @Override
        void ready() throws IOException {
            for (int i = 0; i < DATAGRAMS_PER_WAKE; i++) {
                if (waitingForStack()) {
                    pause();
                    return;
                }
                datagram.clear();
                SocketAddress from = channel.receive(datagram);
                if (from == null) {
                    return;
                }
                datagram.flip();
                ClientFlow f = clients.get(from);
                if (f == null) {
                    GuestConnector c = connector;
                    if (c == null) {
                        refusedNoNetwork++;
                        continue;
                    }
                    try {
                        f = new ClientFlow(c, from);
                    } catch (IOException | RuntimeException e) {
                        if (connectFailures++ < 20) {
                            LOG.warn("cannot open a UDP flow on {} to {}: {}", port.local(), port.shownRemote(), e.getMessage());
                        }
                        continue;
                    }
                    clients.put(from, f);
                }
                f.lastActive = System.nanoTime();
                f.flow.send(datagram);
            }
        }

        void expire(long now) {
            for (Iterator<ClientFlow> it = clients.values().iterator(); it.hasNext(); ) {
                ClientFlow f = it.next();
                if (now - f.lastActive > UDP_IDLE_NANOS) {
                    it.remove();
                    f.flow.close();
                }
            }
        }

        void dropFlows() {
            for (ClientFlow f : clients.values()) {
                f.flow.close();
            }
            clients.clear();
        }

        void dropClosedFlows() {
            clients.values().removeIf(f -> !f.flow.isOpen());
        }

        void closeChannel() {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a published port", e);
            }
        }

        @Override
        void close() {
            dropFlows();
            closeChannel();
        }
    }
}
