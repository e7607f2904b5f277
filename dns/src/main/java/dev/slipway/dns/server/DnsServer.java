package dev.slipway.dns.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.platform.HostResolvers;
import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.api.DnsRecordSource;
import dev.slipway.dns.api.DnsService;

/**
 * Slipway's answering logic: built-in and contributed names from precomputed answers, everything
 * else from the cache or forwarded to the host's resolvers. Called by the host listener and, in
 * process, by the network stack. Built-in names and cache hits are answered on the caller's
 * thread without allocating; forwarded queries are answered later from the forwarder's loop.
 */
@Component(service = {DnsService.class, HostResolvers.Listener.class}, configurationPid = DnsConfig.PID)
@Designate(ocd = DnsConfig.class)
public final class DnsServer implements DnsService, HostResolvers.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(DnsServer.class);

    /** One thread's reusable parser state and output buffer. */
    private static final class Scratch {
        final WireQuery q = new WireQuery();
        final NameKey probe = NameKey.probe();
        final ByteBuffer out = ByteBuffer.allocateDirect(65536);
        boolean replied;
    }

    /** Where forwarded names go: per-domain servers (longest domain first), then the default ones. */
    record Routes(List<InetSocketAddress> defaults, List<Map.Entry<String, List<InetSocketAddress>>> byDomain) {

        static Routes of(List<HostResolvers.Resolver> resolvers) {
            List<InetSocketAddress> defaults = new ArrayList<>();
            Map<String, List<InetSocketAddress>> byDomain = new LinkedHashMap<>();
            for (HostResolvers.Resolver r : resolvers) {
                if (r.isDefault()) {
                    if (!defaults.contains(r.address())) {
                        defaults.add(r.address());
                    }
                } else {
                    for (String domain : r.domains()) {
                        byDomain.computeIfAbsent(domain, d -> new ArrayList<>()).add(r.address());
                    }
                }
            }
            List<Map.Entry<String, List<InetSocketAddress>>> sorted = new ArrayList<>();
            byDomain.forEach((d, servers) -> sorted.add(Map.entry(d, List.copyOf(servers))));
            sorted.sort(Comparator.comparingInt((Map.Entry<String, List<InetSocketAddress>> e) -> e.getKey().length()).reversed());
            return new Routes(List.copyOf(defaults), List.copyOf(sorted));
        }

        List<InetSocketAddress> route(WireQuery q) {
            if (!byDomain.isEmpty()) {
                String name = q.nameString().toLowerCase(Locale.ROOT);
                for (Map.Entry<String, List<InetSocketAddress>> e : byDomain) {
                    String d = e.getKey();
                    if (name.equals(d) || (name.endsWith(d) && name.charAt(name.length() - d.length() - 1) == '.')) {
                        return e.getValue();
                    }
                }
            }
            return defaults;
        }
    }

    private record SourceState(DnsRecordSource source, int ranking, long serviceId) {}

    private final DnsStats stats;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    private final Map<DnsRecordSource, SourceState> sources = new LinkedHashMap<>();
    private final Object zoneLock = new Object();
    private final Forwarder forwarder;
    private volatile DnsConfig config;
    private volatile ClientFilter filter;
    private volatile LocalZone zone;
    private volatile ResponseCache cache;
    private volatile List<HostResolvers.Resolver> hostResolvers = List.of();
    private volatile Routes routes;
    private final String frameworkListen;
    private final java.util.function.Supplier<Map<String, Object>> description = this::describe;

    @Activate
    public DnsServer(BundleContext context, @Reference DnsStats stats, DnsConfig config) {
        this(stats, config, context.getProperty(DnsListener.LISTEN_PROPERTY));
    }

    /** A server outside OSGi, with no host listener: for embedding in tests and benchmarks of other modules. */
    public DnsServer(DnsStats stats, DnsConfig config) {
        this(stats, config, null);
    }

    DnsServer(DnsStats stats, DnsConfig config, String frameworkListen) {
        this.stats = stats;
        this.frameworkListen = frameworkListen;
        apply(config);
        try {
            this.forwarder = new Forwarder(stats, () -> cache, this::route, Forwarder.Settings.of(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the DNS forwarder", e);
        }
        stats.describeServer(description);
    }

    /** The resolvers in use, the cache's size and the local names, for {@code slipway dns stats}. */
    private Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        Routes r = routes;
        d.put("upstreams", r.defaults().stream().map(DnsServer::text).toList());
        Map<String, Object> perDomain = new LinkedHashMap<>();
        for (Map.Entry<String, List<InetSocketAddress>> e : r.byDomain()) {
            perDomain.put(e.getKey(), e.getValue().stream().map(DnsServer::text).toList());
        }
        d.put("perDomainUpstreams", perDomain);
        d.put("upstreamsFrom", config.upstreams().length > 0 ? "configuration" : "host");
        d.put("cacheEntries", cache.size());
        d.put("localNames", zone.size());
        return d;
    }

    private static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Takes a new configuration without dropping a query: every part is swapped in atomically. */
    @Modified
    void modified(DnsConfig config) {
        apply(config);
        forwarder.configure(Forwarder.Settings.of(config));
    }

    /** Stops the forwarder; also how a server made outside OSGi is shut down. */
    @Deactivate
    public void deactivate() {
        stats.forgetServer(description);
        forwarder.close(2000);
    }

    private void apply(DnsConfig config) {
        ResponseCache previous = cache;
        filter = ClientFilter.of(config.allowedClients());
        DnsConfig old = this.config;
        this.config = config;
        if (previous == null || old.cacheEntries() != config.cacheEntries() || old.cacheMaxTtl() != config.cacheMaxTtl()
                || old.cacheNegativeMaxTtl() != config.cacheNegativeMaxTtl()
                || !List.of(old.upstreams()).equals(List.of(config.upstreams()))) {
            cache = new ResponseCache(config.cacheEntries(), config.cacheMaxTtl(), config.cacheNegativeMaxTtl());
        }
        rebuildRoutes();
        rebuildZone();
    }

    @Override
    public void resolversChanged(List<HostResolvers.Resolver> resolvers) {
        List<HostResolvers.Resolver> copy = List.copyOf(resolvers);
        if (!copy.equals(hostResolvers)) {
            hostResolvers = copy;
            rebuildRoutes();
            if (config.upstreams().length == 0) {
                ResponseCache c = cache;
                if (c != null) {
                    c.clear();
                }
            }
            LOG.info("DNS: host resolvers now {}", copy);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSource(DnsRecordSource source, Map<String, Object> properties) {
        synchronized (zoneLock) {
            sources.put(source, new SourceState(source, intProperty(properties.get(Constants.SERVICE_RANKING)),
                    properties.get(Constants.SERVICE_ID) instanceof Long id ? id : 0L));
        }
        rebuildZone();
    }

    void updatedSource(DnsRecordSource source, Map<String, Object> properties) {
        addSource(source, properties);
    }

    void removeSource(DnsRecordSource source) {
        synchronized (zoneLock) {
            sources.remove(source);
        }
        rebuildZone();
    }

    private static int intProperty(Object value) {
        return value instanceof Integer i ? i : 0;
    }

    private void rebuildZone() {
        synchronized (zoneLock) {
            List<SourceState> ordered = new ArrayList<>(sources.values());
            ordered.sort(Comparator.comparingInt(SourceState::ranking).reversed().thenComparingLong(SourceState::serviceId));
            List<LocalZone.Contribution> contributions = new ArrayList<>();
            for (SourceState s : ordered) {
                try {
                    contributions.add(new LocalZone.Contribution(List.copyOf(s.source.records()), List.copyOf(s.source.zones())));
                } catch (RuntimeException e) {
                    LOG.warn("DNS: a record source failed; its records are left out", e);
                }
            }
            LocalZone built = LocalZone.build(config, contributions);
            for (String problem : built.problems()) {
                LOG.warn("DNS: record left out: {}", problem);
            }
            zone = built;
            ResponseCache c = cache;
            if (c != null) {
                c.clear();
            }
        }
    }

    private void rebuildRoutes() {
        routes = Routes.of(withoutOwnAddress(upstreamResolvers()));
    }

    /**
     * Leaves out a resolver that is this server's own host address (for example an
     * /etc/resolver/docker.internal file pointing at it): forwarding to it would loop.
     */
    private List<HostResolvers.Resolver> withoutOwnAddress(List<HostResolvers.Resolver> resolvers) {
        String listen = !config.listen().isBlank() ? config.listen() : frameworkListen;
        if (listen == null || listen.isBlank()) {
            return resolvers;
        }
        InetSocketAddress own;
        try {
            own = parseAddress(listen, 0);
        } catch (IllegalArgumentException e) {
            return resolvers;
        }
        List<HostResolvers.Resolver> kept = new ArrayList<>();
        for (HostResolvers.Resolver r : resolvers) {
            InetSocketAddress a = r.address();
            boolean self = a.getPort() == own.getPort() && (a.getAddress().equals(own.getAddress())
                    || own.getAddress().isAnyLocalAddress() && (a.getAddress().isLoopbackAddress() || a.getAddress().isAnyLocalAddress()));
            if (self) {
                LOG.warn("DNS: resolver {} is this server's own address; left out to avoid a loop", a);
            } else {
                kept.add(r);
            }
        }
        return kept;
    }

    private List<HostResolvers.Resolver> upstreamResolvers() {
        String[] configured = config.upstreams();
        if (configured.length > 0) {
            List<HostResolvers.Resolver> resolvers = new ArrayList<>();
            for (String upstream : configured) {
                try {
                    resolvers.add(HostResolvers.Resolver.of(parseServer(upstream)));
                } catch (IllegalArgumentException e) {
                    LOG.warn("DNS: upstream {} left out: {}", upstream, e.getMessage());
                }
            }
            return resolvers;
        }
        return hostResolvers;
    }

    /** {@code 10.0.0.1}, {@code 10.0.0.1:5353}, {@code ::1}, {@code [::1]:5353}; literals only. */
    static InetSocketAddress parseServer(String text) {
        return parseAddress(text, 1);
    }

    /** Like {@link #parseServer}; port 0 allowed when {@code minPort} is 0 (a listener on a free port). */
    static InetSocketAddress parseAddress(String text, int minPort) {
        String t = text.trim();
        String host = t;
        int port = 53;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ]: " + text);
            }
            host = t.substring(1, close);
            if (t.length() > close + 1) {
                if (t.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad server: " + text);
                }
                port = Integer.parseInt(t.substring(close + 2));
            }
        } else if (t.indexOf(':') >= 0 && t.indexOf(':') == t.lastIndexOf(':')) {
            host = t.substring(0, t.indexOf(':'));
            port = Integer.parseInt(t.substring(t.indexOf(':') + 1));
        }
        if (!host.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[A-Za-z0-9_.-]+)?") || port < minPort || port > 65535) {
            throw new IllegalArgumentException("not an IP address and port: " + text);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + text, e);
        }
    }

    private List<InetSocketAddress> route(WireQuery q) {
        return routes.route(q);
    }

    Routes routes() {
        return routes;
    }

    @Override
    public List<DnsEntry> localRecords() {
        return zone.served();
    }

    @Override
    public List<String> localZones() {
        return zone.zoneNames();
    }

    LocalZone zone() {
        return zone;
    }

    @Override
    public void answer(ByteBuffer query, InetSocketAddress client, boolean tcp, Reply reply) {
        Scratch s = scratch.get();
        s.replied = false;
        try {
            answer(s, query, client, tcp, reply);
        } catch (RuntimeException e) {
            LOG.warn("DNS: unexpected error answering a query", e);
            stats.dropped(DnsStats.Drop.INTERNAL);
            if (!s.replied) {
                s.replied = true;
                reply.send(null);
            }
        }
    }

    private void answer(Scratch s, ByteBuffer query, InetSocketAddress client, boolean tcp, Reply reply) {
        stats.query(tcp);
        WireQuery q = s.q;
        ByteBuffer out = s.out;
        if (!filter.allows(client)) {
            stats.dropped(DnsStats.Drop.NOT_ALLOWED);
            send(s, reply, null);
            return;
        }
        switch (q.parse(query)) {
            case DROP -> {
                stats.dropped(q.reason);
                send(s, reply, null);
            }
            case FORMERR -> error(s, query, reply, ResponseWriter.RCODE_FORMERR, false);
            case NOTIMP -> error(s, query, reply, ResponseWriter.RCODE_NOTIMP, q.reason != DnsStats.Drop.OPCODE);
            case BADVERS -> error(s, query, reply, ResponseWriter.RCODE_BADVERS, true);
            case ANSWER -> {
                LocalZone z = zone;
                LocalZone.NameEntry entry = z.lookup(q, s.probe);
                if (entry != null) {
                    Template local = entry.forType(q.qtype);
                    ResponseWriter.answer(out, query, q, local, tcp, 0);
                    stats.answered(DnsStats.Source.LOCAL, local.rcode);
                    send(s, reply, out);
                    return;
                }
                // the cache holds no name of the zone: it is emptied whenever the zone changes
                long now = System.nanoTime();
                Template cached = cache.get(s.probe.point(q.name, q.nameLength, q.nameHash, ResponseCache.discriminator(q)), now);
                if (cached != null) {
                    stats.cacheHit();
                    ResponseWriter.answer(out, query, q, cached, tcp, now);
                    stats.answered(DnsStats.Source.CACHE, cached.rcode);
                    send(s, reply, out);
                    return;
                }
                Template other = z.hasOtherRules() ? z.answerOther(q) : null;
                if (other != null) {
                    ResponseWriter.answer(out, query, q, other, tcp, 0);
                    stats.answered(DnsStats.Source.LOCAL, other.rcode);
                    send(s, reply, out);
                    return;
                }
                stats.cacheMiss();
                byte[] copy = new byte[query.remaining()];
                query.get(query.position(), copy);
                s.replied = true;
                forwarder.submit(copy, client, tcp, reply);
            }
        }
    }

    private void error(Scratch s, ByteBuffer query, Reply reply, int rcode, boolean withQuestion) {
        stats.dropped(s.q.reason);
        ResponseWriter.error(s.out, query, s.q, rcode, withQuestion);
        stats.answered(DnsStats.Source.ERROR, rcode);
        send(s, reply, s.out);
    }

    private static void send(Scratch s, Reply reply, ByteBuffer answer) {
        s.replied = true;
        reply.send(answer);
    }
}
