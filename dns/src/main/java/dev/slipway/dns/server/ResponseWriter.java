package dev.slipway.dns.server;

import java.nio.ByteBuffer;

/**
 * Writes answers in wire format into a reusable buffer: the client's header fields and question,
 * then a {@link Template}'s sections, then an OPT record when the client used EDNS0. Nothing is
 * allocated. Answers larger than the client accepts over UDP are cut to the header and question
 * with the TC flag, so the client asks again over TCP.
 */
final class ResponseWriter {

    static final int RCODE_NOERROR = 0;
    static final int RCODE_FORMERR = 1;
    static final int RCODE_SERVFAIL = 2;
    static final int RCODE_NXDOMAIN = 3;
    static final int RCODE_NOTIMP = 4;
    static final int RCODE_REFUSED = 5;
    /** BADVERS (16): its upper bits travel in the OPT record. */
    static final int RCODE_BADVERS = 16;

    /** The UDP payload size Slipway advertises (the DNS flag day 2020 value). */
    static final int ADVERTISED_PAYLOAD = 1232;
    private static final int OPT_LENGTH = 11;

    private ResponseWriter() {}

    /** Writes {@code template} as the answer to {@code q} (read from {@code query}); {@code out} is flipped for reading. */
    static void answer(ByteBuffer out, ByteBuffer query, WireQuery q, Template template, boolean tcp, long nowNanos) {
        int questionLength = q.questionEnd - WireQuery.HEADER;
        int size = q.questionEnd + template.body.length + (q.edns ? OPT_LENGTH : 0);
        int limit = tcp ? 65535 : q.udpLimit();
        boolean truncated = size > limit;
        int flags = 0x8000 | 0x0080 | (q.flags & 0x0110) | (template.rcode & 0xF);
        if (template.authoritative) {
            flags |= 0x0400;
        }
        if (template.authenticData && !truncated) {
            flags |= 0x0020;
        }
        if (truncated) {
            flags |= 0x0200;
        }
        out.clear();
        out.putShort((short) q.id).putShort((short) flags).putShort((short) 1);
        if (truncated) {
            out.putShort((short) 0).putShort((short) 0);
        } else {
            out.putShort((short) template.ancount).putShort((short) template.nscount);
        }
        out.putShort((short) ((truncated ? 0 : template.arcount) + (q.edns ? 1 : 0)));
        out.put(WireQuery.HEADER, query, query.position() + WireQuery.HEADER, questionLength);
        out.position(q.questionEnd);
        if (!truncated) {
            int bodyStart = out.position();
            out.put(template.body);
            if (template.ttlOffsets.length > 0) {
                long elapsed = Math.max(0, (nowNanos - template.createdNanos) / 1_000_000_000L);
                for (int i = 0; i < template.ttlOffsets.length; i++) {
                    out.putInt(bodyStart + template.ttlOffsets[i], (int) Math.max(0, template.ttls[i] - elapsed));
                }
            }
        }
        if (q.edns) {
            putOpt(out, 0, q.dnssecOk);
        }
        out.flip();
    }

    /**
     * Writes an answer without records: an error, or SERVFAIL. The question is echoed when it
     * was understood; an error that concerns the message as a whole gets the header alone.
     */
    static void error(ByteBuffer out, ByteBuffer query, WireQuery q, int rcode, boolean withQuestion) {
        int flags = 0x8000 | 0x0080 | (q.opcode << 11) | (q.flags & 0x0110) | (rcode & 0xF);
        boolean opt = q.edns && withQuestion;
        out.clear();
        out.putShort((short) q.id).putShort((short) flags).putShort((short) (withQuestion ? 1 : 0));
        out.putShort((short) 0).putShort((short) 0).putShort((short) (opt ? 1 : 0));
        if (withQuestion) {
            int questionLength = q.questionEnd - WireQuery.HEADER;
            out.put(WireQuery.HEADER, query, query.position() + WireQuery.HEADER, questionLength);
            out.position(q.questionEnd);
        }
        if (opt) {
            putOpt(out, rcode >>> 4, q.dnssecOk);
        }
        out.flip();
    }

    private static void putOpt(ByteBuffer out, int extendedRcode, boolean dnssecOk) {
        out.put((byte) 0).putShort((short) WireQuery.TYPE_OPT).putShort((short) ADVERTISED_PAYLOAD);
        out.put((byte) extendedRcode).put((byte) 0).put((byte) (dnssecOk ? 0x80 : 0)).put((byte) 0);
        out.putShort((short) 0);
    }
}
