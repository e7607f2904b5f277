package dev.slipway.dns.server;

import java.util.Arrays;

import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;

/**
 * A precomputed answer: the wire-format answer, authority and additional sections of a message
 * built by dnsjava, ready to be copied behind the asking client's own header and question. Its
 * compression pointers stay valid because the client's question name has the same length as the
 * one the template was built for (names are compared ignoring case).
 *
 * <p>Cached answers also remember where each record's TTL sits, so that the TTLs count down
 * without re-encoding the message.
 */
final class Template {

    final byte[] body;
    final int questionNameLength;
    final int ancount;
    final int nscount;
    final int arcount;
    final int rcode;
    final boolean authoritative;
    final boolean authenticData;
    /** Offsets (into {@link #body}) of the TTL fields that count down; empty for fixed answers. */
    final int[] ttlOffsets;
    final int[] ttls;
    final long createdNanos;
    final long expiresNanos;

    private Template(byte[] body, int questionNameLength, int ancount, int nscount, int arcount, int rcode,
            boolean authoritative, boolean authenticData, int[] ttlOffsets, int[] ttls, long createdNanos,
            long expiresNanos) {
        this.body = body;
        this.questionNameLength = questionNameLength;
        this.ancount = ancount;
        this.nscount = nscount;
        this.arcount = arcount;
        this.rcode = rcode;
        this.authoritative = authoritative;
        this.authenticData = authenticData;
        this.ttlOffsets = ttlOffsets;
        this.ttls = ttls;
        this.createdNanos = createdNanos;
        this.expiresNanos = expiresNanos;
    }

    /** A fixed answer (built-in names): TTLs do not count down, it never expires. */
    static Template fixed(Message message) {
        return of(message, false, 0, Long.MAX_VALUE);
    }

    /**
     * A cached answer: TTLs count down from {@code createdNanos}; OPT records are left out (the
     * writer adds its own for clients that use EDNS0).
     */
    static Template decaying(Message message, long createdNanos, long expiresNanos) {
        return of(message, true, createdNanos, expiresNanos);
    }

    private static Template of(Message message, boolean decaying, long createdNanos, long expiresNanos) {
        Message copy = new Message(message.getHeader().getID());
        copy.getHeader().setRcode(message.getRcode());
        for (int flag : new int[] {Flags.AA, Flags.AD}) {
            if (message.getHeader().getFlag(flag)) {
                copy.getHeader().setFlag(flag);
            }
        }
        copy.addRecord(message.getQuestion(), Section.QUESTION);
        for (int section : new int[] {Section.ANSWER, Section.AUTHORITY, Section.ADDITIONAL}) {
            for (var record : message.getSection(section)) {
                if (record.getType() != WireQuery.TYPE_OPT) {
                    copy.addRecord(record, section);
                }
            }
        }
        byte[] wire = copy.toWire();
        int nameLength = message.getQuestion().getName().length();
        int bodyStart = WireQuery.HEADER + nameLength + 4;
        byte[] body = Arrays.copyOfRange(wire, bodyStart, wire.length);
        int an = copy.getSection(Section.ANSWER).size();
        int ns = copy.getSection(Section.AUTHORITY).size();
        int ar = copy.getSection(Section.ADDITIONAL).size();
        int[] offsets = decaying ? ttlOffsets(body, an + ns + ar) : new int[0];
        int[] ttls = new int[offsets.length];
        for (int i = 0; i < offsets.length; i++) {
            int o = offsets[i];
            ttls[i] = ((body[o] & 0xFF) << 24) | ((body[o + 1] & 0xFF) << 16) | ((body[o + 2] & 0xFF) << 8) | (body[o + 3] & 0xFF);
            if (ttls[i] < 0) {
                ttls[i] = 0;
            }
        }
        return new Template(body, nameLength, an, ns, ar, copy.getRcode(), copy.getHeader().getFlag(Flags.AA),
                copy.getHeader().getFlag(Flags.AD), offsets, ttls, createdNanos, expiresNanos);
    }

    /** Walks {@code count} resource records (as encoded by dnsjava) and returns each one's TTL offset. */
    private static int[] ttlOffsets(byte[] body, int count) {
        int[] offsets = new int[count];
        java.nio.ByteBuffer records = java.nio.ByteBuffer.wrap(body);
        int p = 0;
        for (int i = 0; i < count; i++) {
            p = WireQuery.nameEnd(records, 0, p, body.length);
            if (p < 0) {
                throw new IllegalArgumentException("a record's owner name is malformed");
            }
            offsets[i] = p + 4;
            int rdlength = ((body[p + 8] & 0xFF) << 8) | (body[p + 9] & 0xFF);
            p += 10 + rdlength;
        }
        return offsets;
    }
}
