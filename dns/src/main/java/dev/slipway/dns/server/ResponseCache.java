package dev.slipway.dns.server;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;

/**
 * Forwarded answers by question, kept as long as their TTLs allow (negative answers as long as
 * their SOA allows, RFC 2308) and at most a fixed number of them. Lookups allocate nothing.
 */
final class ResponseCache {

    private final ConcurrentHashMap<NameKey, Template> entries = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final int maxTtl;
    private final int negativeMaxTtl;

    ResponseCache(int maxEntries, int maxTtl, int negativeMaxTtl) {
        this.maxEntries = Math.max(0, maxEntries);
        this.maxTtl = Math.max(0, maxTtl);
        this.negativeMaxTtl = Math.max(0, negativeMaxTtl);
    }

    /** What the cache is keyed on besides the name: the type and the flags that change the answer. */
    static int discriminator(WireQuery q) {
        return q.qtype | (q.dnssecOk ? 1 << 16 : 0) | (q.checkingDisabled ? 1 << 17 : 0);
    }

    /** The live answer for the probe's question, or {@code null}. */
    Template get(NameKey probe, long nowNanos) {
        Template t = entries.get(probe);
        if (t == null) {
            return null;
        }
        if (t.expiresNanos - nowNanos <= 0) {
            entries.remove(probe, t);
            return null;
        }
        return t;
    }

    /**
     * Keeps {@code answer} for the question of {@code q} if it may be cached.
     *
     * @return the cached template, or {@code null} when the answer may not be cached
     */
    Template put(WireQuery q, Message answer, long nowNanos) {
        if (maxEntries == 0 || answer.getHeader().getFlag(Flags.TC)) {
            return null;
        }
        long ttl = cacheTtl(answer);
        if (ttl <= 0) {
            return null;
        }
        if (entries.size() >= maxEntries) {
            evict(nowNanos);
        }
        Template template = Template.decaying(answer, nowNanos, nowNanos + ttl * 1_000_000_000L);
        entries.put(NameKey.of(q.name, q.nameLength, q.nameHash, discriminator(q)), template);
        return template;
    }

    /** Seconds the answer may be kept; 0 when it must not be. */
    long cacheTtl(Message answer) {
        int rcode = answer.getRcode();
        var answers = answer.getSection(Section.ANSWER);
        if (rcode == Rcode.NOERROR && !answers.isEmpty()) {
            long ttl = maxTtl;
            for (Record r : answers) {
                ttl = Math.min(ttl, r.getTTL());
            }
            for (Record r : answer.getSection(Section.AUTHORITY)) {
                ttl = Math.min(ttl, r.getTTL());
            }
            return ttl;
        }
        if (rcode == Rcode.NXDOMAIN || rcode == Rcode.NOERROR) {
            for (Record r : answer.getSection(Section.AUTHORITY)) {
                if (r instanceof SOARecord soa) {
                    return Math.min(negativeMaxTtl, Math.min(soa.getTTL(), soa.getMinimum()));
                }
            }
        }
        return 0;
    }

    int size() {
        return entries.size();
    }

    void clear() {
        entries.clear();
    }

    private void evict(long nowNanos) {
        entries.values().removeIf(t -> t.expiresNanos - nowNanos <= 0);
        int target = maxEntries - Math.max(1, maxEntries / 10);
        Iterator<NameKey> keys = entries.keySet().iterator();
        while (entries.size() > target && keys.hasNext()) {
            keys.next();
            keys.remove();
        }
    }
}
