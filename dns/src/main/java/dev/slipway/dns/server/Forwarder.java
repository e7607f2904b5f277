package dev.slipway.dns.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;

import dev.slipway.dns.api.DnsService;

/**
 * Forwards queries to upstream servers from one non-blocking loop: a fresh UDP socket (random
 * source port) and a random ID per attempt, answers accepted only from the server asked and only
 * when their ID and question match, a truncated UDP answer asked again over TCP, per-server
 * timeouts with fail-over to the next server, SERVFAIL when none answers in time. Good answers
 * go into the cache.
 */
final class Forwarder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    private static final long SCAN_INTERVAL_NANOS = 5_000_000L;

    /** Timing and limits; replaced as a whole when the configuration changes. */
    record Settings(long upstreamTimeoutNanos, long queryTimeoutNanos, int maxInFlight) {
        static Settings of(DnsConfig config) {
            return new Settings(Math.max(50, config.upstreamTimeoutMs()) * 1_000_000L,
                    Math.max(100, config.queryTimeoutMs()) * 1_000_000L, Math.max(1, config.maxInFlight()));
        }
    }

    /** One client query being forwarded. */
    private static final class Pending {
        final byte[] query;
        final ByteBuffer queryBuf;
        final WireQuery q = new WireQuery();
        final InetSocketAddress client;
        final boolean clientTcp;
        final DnsService.Reply reply;
        final long startNanos;
        long deadline;
        List<InetSocketAddress> servers;
        int attempt;
        int maxAttempts;
        InetSocketAddress server;
        SelectableChannel channel;
        boolean overTcp;
        int upstreamId;
        long attemptStart;
        long attemptDeadline;
        ByteBuffer tcpOut;
        ByteBuffer tcpLength;
        ByteBuffer tcpIn;
        /** The question this query leads, and the same questions that arrived meanwhile and wait for its answer. */
        NameKey key;
        List<Pending> followers;

        Pending(byte[] query, InetSocketAddress client, boolean clientTcp, DnsService.Reply reply, long now) {
            this.query = query;
            this.queryBuf = ByteBuffer.wrap(query);
            this.client = client;
            this.clientTcp = clientTcp;
            this.reply = reply;
            this.startNanos = now;
        }
    }

    private final DnsStats stats;
    private final java.util.function.Supplier<ResponseCache> cache;
    private final Function<WireQuery, List<InetSocketAddress>> route;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Pending> submitted = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final java.util.Set<Pending> inFlight = new java.util.LinkedHashSet<>();
    private final java.util.Map<NameKey, Pending> leaders = new java.util.HashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(65536);
    private final byte[] readBytes = new byte[65536];
    private final ByteBuffer out = ByteBuffer.allocateDirect(65536);
    private volatile Settings settings;
    private volatile boolean running = true;
    private volatile long drainUntil = Long.MAX_VALUE;
    private long nextScan;

    Forwarder(DnsStats stats, java.util.function.Supplier<ResponseCache> cache, Function<WireQuery, List<InetSocketAddress>> route, Settings settings)
            throws IOException {
        this.stats = stats;
        this.cache = cache;
        this.route = route;
        this.settings = settings;
        this.selector = Selector.open();
        this.thread = new Thread(this::loop, "slipway-dns-forwarder");
        thread.setDaemon(true);
        thread.start();
    }

    void configure(Settings settings) {
        this.settings = settings;
    }

    /** Hands a query over to the loop; {@code query} must be the caller's own copy. Thread-safe. */
    void submit(byte[] query, InetSocketAddress client, boolean tcp, DnsService.Reply reply) {
        if (!running || queued.get() >= settings.maxInFlight()) {
            answerOverloaded(query, client, tcp, reply);
            return;
        }
        queued.incrementAndGet();
        submitted.add(new Pending(query, client, tcp, reply, System.nanoTime()));
        selector.wakeup();
    }

    private void answerOverloaded(byte[] query, InetSocketAddress client, boolean tcp, DnsService.Reply reply) {
        stats.dropped(DnsStats.Drop.OVERLOAD);
        Pending p = new Pending(query, client, tcp, reply, System.nanoTime());
        if (p.q.parse(p.queryBuf) == WireQuery.Verdict.ANSWER) {
            ByteBuffer buffer = ByteBuffer.allocate(p.q.questionEnd + 32);
            ResponseWriter.error(buffer, p.queryBuf, p.q, ResponseWriter.RCODE_SERVFAIL, true);
            stats.answered(DnsStats.Source.ERROR, ResponseWriter.RCODE_SERVFAIL);
            safeSend(p.reply, buffer);
        } else {
            safeSend(p.reply, null);
        }
    }

    /**
     * Stops taking queries, lets those in flight finish for up to {@code drainMillis}, answers the
     * rest SERVFAIL and ends the loop.
     */
    void close(long drainMillis) {
        running = false;
        drainUntil = System.nanoTime() + drainMillis * 1_000_000L;
        selector.wakeup();
        try {
            thread.join(drainMillis + 2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(1000);
    }

    private void loop() {
        try {
            while (true) {
                long now = System.nanoTime();
                if (!running && (inFlight.isEmpty() && submitted.isEmpty() || now - drainUntil >= 0)) {
                    break;
                }
                // idle, nothing to time out: sleep until submit() or close() wakes the selector (0: no timeout)
                long waitMillis = inFlight.isEmpty() ? 0 : Math.max(1, (nextScan - now) / 1_000_000L);
                selector.select(waitMillis);
                now = System.nanoTime();
                Pending p;
                while ((p = submitted.poll()) != null) {
                    start(p, now);
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    Pending pending = (Pending) key.attachment();
                    try {
                        if (key.isValid()) {
                            ready(pending, key, System.nanoTime());
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("DNS forwarder: unexpected error", e);
                        stats.dropped(DnsStats.Drop.INTERNAL);
                        finish(pending, ResponseWriter.RCODE_SERVFAIL, System.nanoTime());
                    }
                }
                now = System.nanoTime();
                if (now - nextScan >= 0) {
                    expire(now);
                    nextScan = now + SCAN_INTERVAL_NANOS;
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            LOG.error("DNS forwarder loop failed", e);
        } finally {
            long now = System.nanoTime();
            for (Pending p : new ArrayList<>(inFlight)) {
                finish(p, ResponseWriter.RCODE_SERVFAIL, now);
            }
            Pending p;
            while ((p = submitted.poll()) != null) {
                queued.decrementAndGet();
                answerOverloaded(p.query, p.client, p.clientTcp, p.reply);
            }
            try {
                selector.close();
            } catch (IOException e) {
                LOG.debug("closing the selector", e);
            }
        }
    }

    private void start(Pending p, long now) {
        Settings s = settings;
        p.deadline = p.startNanos + s.queryTimeoutNanos();
        inFlight.add(p);
        if (p.q.parse(p.queryBuf) != WireQuery.Verdict.ANSWER) {
            stats.dropped(DnsStats.Drop.INTERNAL);
            finish(p, -1, now);
            return;
        }
        NameKey key = NameKey.of(p.q.name, p.q.nameLength, p.q.nameHash, ResponseCache.discriminator(p.q));
        Pending leader = leaders.get(key);
        if (leader != null) {
            // the same question is already on its way: share its answer instead of asking again
            inFlight.remove(p);
            if (leader.followers == null) {
                leader.followers = new ArrayList<>();
            }
            leader.followers.add(p);
            stats.coalesced();
            return;
        }
        p.key = key;
        leaders.put(key, p);
        List<InetSocketAddress> servers;
        try {
            servers = route.apply(p.q);
        } catch (RuntimeException e) {
            LOG.warn("DNS forwarder: choosing the upstream failed", e);
            servers = List.of();
        }
        if (servers.isEmpty()) {
            stats.dropped(DnsStats.Drop.NO_UPSTREAM);
            finish(p, ResponseWriter.RCODE_SERVFAIL, now);
            return;
        }
        p.servers = servers;
        p.maxAttempts = servers.size() * 2;
        p.attempt = -1;
        nextAttempt(p, now);
    }

    /** Asks the next server in turn over UDP, or answers SERVFAIL when time or servers ran out. */
    private void nextAttempt(Pending p, long now) {
        closeChannel(p);
        p.attempt++;
        if (p.attempt > 0) {
            stats.upstreamFailover();
        }
        while (p.attempt < p.maxAttempts && now - p.deadline < 0) {
            p.server = p.servers.get(p.attempt % p.servers.size());
            try {
                sendUdp(p, now);
                return;
            } catch (IOException | RuntimeException e) {
                stats.upstreamError();
                LOG.debug("DNS forwarder: sending to {} failed", p.server, e);
                closeChannel(p);
                p.attempt++;
            }
        }
        finish(p, ResponseWriter.RCODE_SERVFAIL, now);
    }

    private byte[] upstreamQuery(Pending p) {
        byte[] copy = p.query.clone();
        p.upstreamId = random.nextInt(65536);
        copy[0] = (byte) (p.upstreamId >>> 8);
        copy[1] = (byte) p.upstreamId;
        copy[2] |= 0x01; // recursion desired: the host's resolvers do the work
        return copy;
    }

    private void sendUdp(Pending p, long now) throws IOException {
        DatagramChannel channel = DatagramChannel.open(p.server.getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        p.channel = channel;
        p.overTcp = false;
        channel.configureBlocking(false);
        channel.connect(p.server);
        channel.write(ByteBuffer.wrap(upstreamQuery(p)));
        channel.register(selector, SelectionKey.OP_READ, p);
        stats.upstreamSent();
        p.attemptStart = now;
        p.attemptDeadline = Math.min(p.deadline, now + settings.upstreamTimeoutNanos());
    }

    private void sendTcp(Pending p, long now) throws IOException {
        closeChannel(p);
        stats.upstreamTcpRetry();
        SocketChannel channel = SocketChannel.open();
        p.channel = channel;
        p.overTcp = true;
        channel.configureBlocking(false);
        byte[] query = upstreamQuery(p);
        p.tcpOut = ByteBuffer.allocate(2 + query.length);
        p.tcpOut.putShort((short) query.length).put(query).flip();
        p.tcpLength = ByteBuffer.allocate(2);
        p.tcpIn = null;
        boolean connected = channel.connect(p.server);
        channel.register(selector, connected ? SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT, p);
        stats.upstreamSent();
        p.attemptStart = now;
        p.attemptDeadline = Math.min(p.deadline, now + settings.upstreamTimeoutNanos());
    }

    private void ready(Pending p, SelectionKey key, long now) {
        try {
            if (p.overTcp) {
                readyTcp(p, key, now);
            } else {
                readyUdp(p, now);
            }
        } catch (IOException e) {
            // refused (ICMP port unreachable), reset, ...: this server is out for this query
            stats.upstreamError();
            LOG.debug("DNS forwarder: {} failed", p.server, e);
            nextAttempt(p, now);
        }
    }

    private void readyUdp(Pending p, long now) throws IOException {
        DatagramChannel channel = (DatagramChannel) p.channel;
        for (int i = 0; i < 16 && p.channel == channel; i++) {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n <= 0) {
                return;
            }
            readBuffer.flip();
            readBuffer.get(readBytes, 0, n);
            received(p, readBytes, n, now);
        }
    }

    private void readyTcp(Pending p, SelectionKey key, long now) throws IOException {
        SocketChannel channel = (SocketChannel) p.channel;
        if (key.isConnectable()) {
            if (!channel.finishConnect()) {
                return;
            }
            key.interestOps(SelectionKey.OP_WRITE);
        }
        if (key.isWritable() || (key.interestOps() & SelectionKey.OP_WRITE) != 0) {
            channel.write(p.tcpOut);
            if (p.tcpOut.hasRemaining()) {
                return;
            }
            key.interestOps(SelectionKey.OP_READ);
            return;
        }
        if (!key.isReadable()) {
            return;
        }
        if (p.tcpIn == null) {
            if (channel.read(p.tcpLength) < 0) {
                throw new IOException("connection closed before the answer");
            }
            if (p.tcpLength.hasRemaining()) {
                return;
            }
            int length = ((p.tcpLength.get(0) & 0xFF) << 8) | (p.tcpLength.get(1) & 0xFF);
            if (length < WireQuery.HEADER) {
                stats.upstreamGarbage();
                nextAttempt(p, now);
                return;
            }
            p.tcpIn = ByteBuffer.allocate(length);
        }
        if (channel.read(p.tcpIn) < 0) {
            throw new IOException("connection closed in the middle of the answer");
        }
        if (p.tcpIn.hasRemaining()) {
            return;
        }
        received(p, p.tcpIn.array(), p.tcpIn.capacity(), now);
    }

    private void received(Pending p, byte[] wire, int length, long now) {
        if (!matches(p, wire, length)) {
            stats.upstreamMismatched();
            if (p.overTcp) {
                // a TCP stream that answers something else is broken
                stats.upstreamGarbage();
                nextAttempt(p, now);
            }
            return;
        }
        boolean truncated = (wire[2] & 0x02) != 0;
        if (truncated && !p.overTcp) {
            try {
                sendTcp(p, now);
            } catch (IOException e) {
                stats.upstreamError();
                nextAttempt(p, now);
            }
            return;
        }
        Message answer;
        try {
            answer = new Message(length == wire.length ? wire : java.util.Arrays.copyOf(wire, length));
        } catch (IOException | RuntimeException e) {
            stats.upstreamGarbage();
            nextAttempt(p, now);
            return;
        }
        int rcode = answer.getRcode();
        if (rcode == Rcode.SERVFAIL || rcode == Rcode.REFUSED || rcode == Rcode.NOTIMP || rcode == Rcode.FORMERR) {
            stats.upstreamError();
            nextAttempt(p, now);
            return;
        }
        stats.upstreamLatency(now - p.attemptStart);
        Template template;
        try {
            template = cache.get().put(p.q, answer, now);
            if (template != null) {
                stats.cacheInsert();
            } else {
                template = Template.decaying(answer, now, now);
            }
        } catch (RuntimeException e) {
            stats.upstreamGarbage();
            nextAttempt(p, now);
            return;
        }
        if (template.questionNameLength != p.q.nameLength) {
            stats.upstreamGarbage();
            nextAttempt(p, now);
            return;
        }
        closeChannel(p);
        inFlight.remove(p);
        release(p);
        queued.decrementAndGet();
        ResponseWriter.answer(out, p.queryBuf, p.q, template, p.clientTcp, now);
        stats.answered(DnsStats.Source.UPSTREAM, template.rcode);
        safeSend(p.reply, out);
        if (p.followers != null) {
            for (Pending f : p.followers) {
                queued.decrementAndGet();
                ResponseWriter.answer(out, f.queryBuf, f.q, template, f.clientTcp, now);
                stats.answered(DnsStats.Source.UPSTREAM, template.rcode);
                safeSend(f.reply, out);
            }
        }
    }

    private void release(Pending p) {
        if (p.key != null) {
            leaders.remove(p.key, p);
        }
    }

    /** Whether {@code wire} answers the question {@code p} asked, with the ID it was asked with. */
    private static boolean matches(Pending p, byte[] wire, int length) {
        if (length < p.q.questionEnd) {
            return false;
        }
        int id = ((wire[0] & 0xFF) << 8) | (wire[1] & 0xFF);
        int flags = ((wire[2] & 0xFF) << 8) | (wire[3] & 0xFF);
        int qdcount = ((wire[4] & 0xFF) << 8) | (wire[5] & 0xFF);
        if (id != p.upstreamId || (flags & 0x8000) == 0 || ((flags >>> 11) & 0xF) != 0 || qdcount != 1) {
            return false;
        }
        if (!p.q.sameName(wire, WireQuery.HEADER, length)) {
            return false;
        }
        int t = WireQuery.HEADER + p.q.nameLength;
        int qtype = ((wire[t] & 0xFF) << 8) | (wire[t + 1] & 0xFF);
        int qclass = ((wire[t + 2] & 0xFF) << 8) | (wire[t + 3] & 0xFF);
        return qtype == p.q.qtype && qclass == p.q.qclass;
    }

    private void expire(long now) {
        if (inFlight.isEmpty()) {
            return;
        }
        for (Pending p : new ArrayList<>(inFlight)) {
            if (!inFlight.contains(p)) {
                continue;
            }
            if (now - p.deadline >= 0) {
                stats.upstreamTimeout();
                finish(p, ResponseWriter.RCODE_SERVFAIL, now);
            } else if (now - p.attemptDeadline >= 0) {
                stats.upstreamTimeout();
                nextAttempt(p, now);
            }
        }
    }

    /** Ends a query with an answer without records ({@code rcode} -1: no answer at all). */
    private void finish(Pending p, int rcode, long now) {
        closeChannel(p);
        if (!inFlight.remove(p)) {
            return;
        }
        release(p);
        queued.decrementAndGet();
        if (rcode < 0) {
            safeSend(p.reply, null);
            return;
        }
        ResponseWriter.error(out, p.queryBuf, p.q, rcode, true);
        stats.answered(DnsStats.Source.ERROR, rcode);
        safeSend(p.reply, out);
        if (p.followers != null) {
            for (Pending f : p.followers) {
                queued.decrementAndGet();
                ResponseWriter.error(out, f.queryBuf, f.q, rcode, true);
                stats.answered(DnsStats.Source.ERROR, rcode);
                safeSend(f.reply, out);
            }
        }
    }

    private void safeSend(DnsService.Reply reply, ByteBuffer answer) {
        try {
            reply.send(answer);
        } catch (RuntimeException e) {
            LOG.warn("DNS forwarder: delivering an answer failed", e);
            stats.dropped(DnsStats.Drop.SEND_FAILED);
        }
    }

    private static void closeChannel(Pending p) {
        if (p.channel != null) {
            try {
                p.channel.close();
            } catch (IOException e) {
                LOG.debug("closing an upstream socket", e);
            }
            p.channel = null;
        }
    }
}
