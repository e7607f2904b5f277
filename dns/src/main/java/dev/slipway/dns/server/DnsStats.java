package dev.slipway.dns.server;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Component;
import org.xbill.DNS.Rcode;

import dev.slipway.api.control.StatusContributor;

/**
 * The DNS server's counters, shared by the answering logic and the host listener so that they
 * survive either being replaced. Updating a counter allocates nothing.
 */
@Component(service = {DnsStats.class, StatusContributor.class}, property = StatusContributor.KEY + "=dns")
public final class DnsStats implements StatusContributor {

    /** Why a query got no answer, or an error answer. */
    public enum Drop {
        SHORT, OVERSIZED, NOT_A_QUERY, OPCODE, COUNTS, TRUNCATED, BAD_NAME, BAD_EDNS, TRAILING, QTYPE, QCLASS,
        NOT_ALLOWED, OVERLOAD, NO_UPSTREAM, HELD_OVERFLOW, HELD_EXPIRED, TCP_LIMIT, TCP_OVERSIZED, SEND_FAILED,
        INTERNAL;

        String key() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** How an answer was produced. */
    public enum Source { LOCAL, CACHE, UPSTREAM, ERROR }

    private static final int LATENCY_BUCKETS = 32;

    private final LongAdder udpQueries = new LongAdder();
    private final LongAdder tcpQueries = new LongAdder();
    private final LongAdder[] rcodes = adders(24);
    private final LongAdder[] sources = adders(Source.values().length);
    private final LongAdder[] drops = adders(Drop.values().length);
    private final LongAdder cacheHits = new LongAdder();
    private final LongAdder cacheMisses = new LongAdder();
    private final LongAdder cacheInserts = new LongAdder();
    private final LongAdder upstreamQueries = new LongAdder();
    private final LongAdder upstreamTimeouts = new LongAdder();
    private final LongAdder upstreamGarbage = new LongAdder();
    private final LongAdder upstreamMismatched = new LongAdder();
    private final LongAdder upstreamTcpRetries = new LongAdder();
    private final LongAdder upstreamFailovers = new LongAdder();
    private final LongAdder upstreamErrors = new LongAdder();
    private final LongAdder upstreamCoalesced = new LongAdder();
    /** Upstream round trips by power-of-two microseconds. */
    private final AtomicLongArray upstreamLatency = new AtomicLongArray(LATENCY_BUCKETS);
    private final LongAdder upstreamLatencyMicros = new LongAdder();
    /** What the current answering logic reports about itself (resolvers in use, cache size), if any. */
    private volatile java.util.function.Supplier<Map<String, Object>> server;

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** Set by the answering logic while it is active. */
    synchronized void describeServer(java.util.function.Supplier<Map<String, Object>> description) {
        server = description;
    }

    /** Forgets the description, unless a newer answering logic has already replaced it. */
    synchronized void forgetServer(java.util.function.Supplier<Map<String, Object>> description) {
        if (server == description) {
            server = null;
        }
    }

    void query(boolean tcp) {
        (tcp ? tcpQueries : udpQueries).increment();
    }

    void answered(Source source, int rcode) {
        sources[source.ordinal()].increment();
        rcodes[Math.min(rcode, rcodes.length - 1)].increment();
    }

    void dropped(Drop why) {
        drops[why.ordinal()].increment();
    }

    void cacheHit() {
        cacheHits.increment();
    }

    void cacheMiss() {
        cacheMisses.increment();
    }

    void cacheInsert() {
        cacheInserts.increment();
    }

    void upstreamSent() {
        upstreamQueries.increment();
    }

    void upstreamTimeout() {
        upstreamTimeouts.increment();
    }

    void upstreamGarbage() {
        upstreamGarbage.increment();
    }

    void upstreamMismatched() {
        upstreamMismatched.increment();
    }

    void upstreamTcpRetry() {
        upstreamTcpRetries.increment();
    }

    void upstreamFailover() {
        upstreamFailovers.increment();
    }

    void upstreamError() {
        upstreamErrors.increment();
    }

    void coalesced() {
        upstreamCoalesced.increment();
    }

    void upstreamLatency(long nanos) {
        long micros = Math.max(1, nanos / 1000);
        upstreamLatencyMicros.add(micros);
        upstreamLatency.incrementAndGet(Math.min(LATENCY_BUCKETS - 1, 63 - Long.numberOfLeadingZeros(micros)));
    }

    long drops(Drop why) {
        return drops[why.ordinal()].sum();
    }

    long cacheHits() {
        return cacheHits.sum();
    }

    long totalDrops() {
        long n = 0;
        for (LongAdder d : drops) {
            n += d.sum();
        }
        return n;
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        Map<String, Object> queries = new LinkedHashMap<>();
        queries.put("udp", udpQueries.sum());
        queries.put("tcp", tcpQueries.sum());
        status.put("queries", queries);
        Map<String, Object> byRcode = new LinkedHashMap<>();
        for (int i = 0; i < rcodes.length; i++) {
            long n = rcodes[i].sum();
            if (n > 0) {
                byRcode.put(Rcode.string(i), n);
            }
        }
        status.put("answers", byRcode);
        Map<String, Object> bySource = new LinkedHashMap<>();
        for (Source s : Source.values()) {
            bySource.put(s.name().toLowerCase(Locale.ROOT), sources[s.ordinal()].sum());
        }
        status.put("answeredFrom", bySource);
        Map<String, Object> cache = new LinkedHashMap<>();
        cache.put("hits", cacheHits.sum());
        cache.put("misses", cacheMisses.sum());
        cache.put("inserts", cacheInserts.sum());
        status.put("cache", cache);
        Map<String, Object> upstream = new LinkedHashMap<>();
        upstream.put("queries", upstreamQueries.sum());
        upstream.put("timeouts", upstreamTimeouts.sum());
        upstream.put("garbage", upstreamGarbage.sum());
        upstream.put("mismatched", upstreamMismatched.sum());
        upstream.put("tcpRetries", upstreamTcpRetries.sum());
        upstream.put("failovers", upstreamFailovers.sum());
        upstream.put("errors", upstreamErrors.sum());
        upstream.put("coalesced", upstreamCoalesced.sum());
        long answered = 0;
        for (int i = 0; i < LATENCY_BUCKETS; i++) {
            answered += upstreamLatency.get(i);
        }
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("count", answered);
        latency.put("avgMs", answered == 0 ? 0.0 : upstreamLatencyMicros.sum() / 1000.0 / answered);
        latency.put("p50Ms", percentile(answered, 0.50));
        latency.put("p99Ms", percentile(answered, 0.99));
        upstream.put("latency", latency);
        status.put("upstream", upstream);
        Map<String, Object> dropped = new LinkedHashMap<>();
        for (Drop d : Drop.values()) {
            long n = drops[d.ordinal()].sum();
            if (n > 0) {
                dropped.put(d.key(), n);
            }
        }
        status.put("drops", dropped);
        java.util.function.Supplier<Map<String, Object>> description = server;
        if (description != null) {
            status.put("server", description.get());
        }
        return status;
    }

    /** The upper bound (ms) of the histogram bucket holding the given fraction of upstream answers. */
    private double percentile(long count, double fraction) {
        if (count == 0) {
            return 0.0;
        }
        long target = (long) Math.ceil(count * fraction);
        long seen = 0;
        for (int i = 0; i < LATENCY_BUCKETS; i++) {
            seen += upstreamLatency.get(i);
            if (seen >= target) {
                return (1L << (i + 1)) / 1000.0;
            }
        }
        return (1L << LATENCY_BUCKETS) / 1000.0;
    }
}
