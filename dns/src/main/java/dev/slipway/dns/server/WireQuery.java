package dev.slipway.dns.server;

import java.nio.ByteBuffer;

/**
 * A reusable, allocation-free view of one incoming query: header fields, the question (its name
 * lower-cased into a scratch array, for lookups) and the EDNS0 OPT record.
 *
 * <p>Hand-written rather than dnsjava's {@code Message}: parsing a message with dnsjava allocates
 * dozens of objects, and the built-in and cached answers must not allocate per query. Anything
 * this view does not accept is refused here; dnsjava builds every answer's records.
 */
final class WireQuery {

    /** How a query is to be handled. */
    enum Verdict { ANSWER, DROP, FORMERR, NOTIMP, BADVERS }

    static final int HEADER = 12;
    static final int MAX_QUERY = 4096;
    static final int TYPE_OPT = 41;
    static final int CLASS_IN = 1;

    int id;
    int flags;
    int opcode;
    boolean recursionDesired;
    boolean checkingDisabled;
    /** Offset of the first byte after the question, relative to the message start. */
    int questionEnd;
    final byte[] name = new byte[255];
    int nameLength;
    int nameHash;
    int qtype;
    int qclass;
    boolean edns;
    int ednsPayload;
    boolean dnssecOk;
    /** Why the last query was not {@link Verdict#ANSWER}ed, for the statistics. */
    DnsStats.Drop reason;

    /** Parses the query from {@code buf}'s position to its limit; the buffer is left unchanged. */
    Verdict parse(ByteBuffer buf) {
        int base = buf.position();
        int length = buf.remaining();
        edns = false;
        dnssecOk = false;
        ednsPayload = 512;
        nameLength = 0;
        qtype = 0;
        qclass = 0;
        questionEnd = HEADER;
        reason = null;
        if (length < HEADER) {
            return drop(DnsStats.Drop.SHORT);
        }
        if (length > MAX_QUERY) {
            return drop(DnsStats.Drop.OVERSIZED);
        }
        id = u16(buf, base);
        flags = u16(buf, base + 2);
        if ((flags & 0x8000) != 0) {
            return drop(DnsStats.Drop.NOT_A_QUERY);
        }
        opcode = (flags >>> 11) & 0xF;
        recursionDesired = (flags & 0x0100) != 0;
        checkingDisabled = (flags & 0x0010) != 0;
        if (opcode != 0) {
            reason = DnsStats.Drop.OPCODE;
            return Verdict.NOTIMP;
        }
        int qdcount = u16(buf, base + 4);
        int ancount = u16(buf, base + 6);
        int nscount = u16(buf, base + 8);
        int arcount = u16(buf, base + 10);
        if (qdcount != 1 || ancount != 0 || nscount != 0) {
            return formerr(DnsStats.Drop.COUNTS);
        }
        int p = HEADER;
        int hash = 0x811C9DC5;
        while (true) {
            if (p >= length) {
                return formerr(DnsStats.Drop.TRUNCATED);
            }
            int label = buf.get(base + p) & 0xFF;
            if (label == 0) {
                name[nameLength++] = 0;
                p++;
                break;
            }
            if (label > 63) {
                return formerr(DnsStats.Drop.BAD_NAME);
            }
            if (nameLength + 1 + label + 1 > 255) {
                return formerr(DnsStats.Drop.BAD_NAME);
            }
            if (p + 1 + label > length) {
                return formerr(DnsStats.Drop.TRUNCATED);
            }
            name[nameLength++] = (byte) label;
            hash = (hash ^ label) * 0x01000193;
            p++;
            for (int i = 0; i < label; i++) {
                int c = buf.get(base + p + i) & 0xFF;
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                }
                name[nameLength++] = (byte) c;
                hash = (hash ^ c) * 0x01000193;
            }
            p += label;
        }
        nameHash = hash;
        if (p + 4 > length) {
            return formerr(DnsStats.Drop.TRUNCATED);
        }
        qtype = u16(buf, base + p);
        qclass = u16(buf, base + p + 2);
        p += 4;
        questionEnd = p;
        for (int i = 0; i < arcount; i++) {
            int start = p;
            // owner name: the OPT record's is the root; skip others (for example a TSIG's)
            p = nameEnd(buf, base, p, length);
            if (p == NAME_TRUNCATED) {
                return formerr(DnsStats.Drop.TRUNCATED);
            }
            if (p == NAME_BAD) {
                return formerr(DnsStats.Drop.BAD_NAME);
            }
            if (p + 10 > length) {
                return formerr(DnsStats.Drop.TRUNCATED);
            }
            int type = u16(buf, base + p);
            int rdlength = u16(buf, base + p + 8);
            if (type == TYPE_OPT) {
                if (edns || p != start + 1) {
                    return formerr(DnsStats.Drop.BAD_EDNS);
                }
                edns = true;
                ednsPayload = Math.max(512, u16(buf, base + p + 2));
                int version = buf.get(base + p + 5) & 0xFF;
                dnssecOk = (buf.get(base + p + 6) & 0x80) != 0;
                if (version != 0) {
                    p += 10 + rdlength;
                    if (p > length) {
                        return formerr(DnsStats.Drop.TRUNCATED);
                    }
                    reason = DnsStats.Drop.BAD_EDNS;
                    return Verdict.BADVERS;
                }
            }
            p += 10 + rdlength;
            if (p > length) {
                return formerr(DnsStats.Drop.TRUNCATED);
            }
        }
        if (p != length) {
            return formerr(DnsStats.Drop.TRAILING);
        }
        if (qtype == 0 || qtype == 251 || qtype == 252) {
            // type 0 is reserved; IXFR and AXFR are zone transfers, never forwarded
            reason = DnsStats.Drop.QTYPE;
            return qtype == 0 ? Verdict.FORMERR : Verdict.NOTIMP;
        }
        if (qclass != CLASS_IN) {
            reason = DnsStats.Drop.QCLASS;
            return Verdict.NOTIMP;
        }
        return Verdict.ANSWER;
    }

    /** The largest answer the client accepts over UDP. */
    int udpLimit() {
        return edns ? Math.min(ednsPayload, 4096) : 512;
    }

    /** Whether the question name in {@code buf} (at {@code offset}) equals this query's name, ignoring case. */
    boolean sameName(byte[] other, int offset, int otherLength) {
        if (otherLength - offset < nameLength) {
            return false;
        }
        for (int i = 0; i < nameLength; i++) {
            int c = other[offset + i] & 0xFF;
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != (name[i] & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    /** The question name in presentation form without the trailing dot (allocates; not for hot paths). */
    String nameString() {
        StringBuilder text = new StringBuilder(nameLength);
        int p = 0;
        while (p < nameLength && name[p] != 0) {
            int label = name[p++];
            if (text.length() > 0) {
                text.append('.');
            }
            for (int i = 0; i < label; i++) {
                int c = name[p + i] & 0xFF;
                if (c == '.' || c == '\\') {
                    text.append('\\').append((char) c);
                } else if (c < 0x21 || c > 0x7E) {
                    text.append('\\').append(String.format("%03d", c));
                } else {
                    text.append((char) c);
                }
            }
            p += label;
        }
        return text.toString();
    }

    private Verdict drop(DnsStats.Drop why) {
        reason = why;
        return Verdict.DROP;
    }

    private Verdict formerr(DnsStats.Drop why) {
        reason = why;
        return Verdict.FORMERR;
    }

    static int u16(ByteBuffer buf, int index) {
        return ((buf.get(index) & 0xFF) << 8) | (buf.get(index + 1) & 0xFF);
    }

    static final int NAME_TRUNCATED = -1;
    static final int NAME_BAD = -2;

    /**
     * Where the encoded name at {@code p} ends (after its root label or compression pointer), or
     * {@link #NAME_TRUNCATED} when it runs past {@code length}, {@link #NAME_BAD} for a label over 63.
     */
    static int nameEnd(ByteBuffer buf, int base, int p, int length) {
        while (true) {
            if (p >= length) {
                return NAME_TRUNCATED;
            }
            int label = buf.get(base + p) & 0xFF;
            if (label == 0) {
                return p + 1;
            }
            if ((label & 0xC0) == 0xC0) {
                return p + 2;
            }
            if (label > 63) {
                return NAME_BAD;
            }
            p += 1 + label;
        }
    }
}
