package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.dns.api.DnsService;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.loop.EventLoop;

/**
 * DNS over TCP answered in process: every complete length-prefixed query in the guest's stream
 * goes to the DNS service, and its answers, length-prefixed, are what the stream reads. The end of
 * the stream comes once the guest closed its side and every query is answered.
 */
final class DnsStream implements HostStream {
    private static final Logger LOG = LoggerFactory.getLogger(DnsStream.class);
    /** Answers waiting for the guest beyond this are dropped: the guest is not reading them. */
    private static final int MAX_PENDING_ANSWERS = 256 * 1024;

    private final HostEndpoints endpoints;
    private final EventLoop loop;
    private final Stats stats;
    private final InetSocketAddress client;
    private final Events events;
    /** The guest's bytes not yet forming a whole query; room for the largest one. */
    private final ByteBuffer queries = ByteBuffer.allocate(2 + 65535);
    /** Answers not yet read, in read mode (position to limit). */
    private ByteBuffer answers = ByteBuffer.allocate(0);
    private int unanswered;
    private boolean inputShut;
    /** Like a host socket, which is registered for reading once connected. */
    private boolean readInterest = true;
    private boolean closed;

    DnsStream(HostEndpoints endpoints, EventLoop loop, Stats stats, InetSocketAddress client, Events events) {
        this.endpoints = endpoints;
        this.loop = loop;
        this.stats = stats;
        this.client = client;
        this.events = events;
    }

    /** The names in a handed-over DNS stream's description. */
    static final String CLIENT = "client", PARTIAL_QUERY = "partialQuery", ANSWERS = "answers", INPUT_SHUT = "inputShut",
            READ_INTEREST = "readInterest";

    /**
     * Hands over what the stream holds: the guest's incomplete query and the answers it has not read.
     * A query still being answered cannot go along (its answer would come to this version): the
     * stream is then not handed over, and the guest's connection is reset.
     */
    @Override
    public Object handOver() {
        if (closed || unanswered > 0) {
            return null;
        }
        closed = true;
        byte[] partial = new byte[queries.position()];
        queries.get(0, partial);
        byte[] pending = new byte[answers.remaining()];
        answers.get(answers.position(), pending);
        return java.util.Map.of(CLIENT, client, PARTIAL_QUERY, partial, ANSWERS, pending, INPUT_SHUT, inputShut,
                READ_INTEREST, readInterest);
    }

    /** Goes on with a DNS stream a previous version of the stack handed over ({@link #handOver()}). */
    static DnsStream adopt(HostEndpoints endpoints, EventLoop loop, Stats stats, java.util.Map<?, ?> handed, Events events)
            throws IOException {
        if (!(handed.get(CLIENT) instanceof InetSocketAddress client) || !(handed.get(PARTIAL_QUERY) instanceof byte[] partial)
                || !(handed.get(ANSWERS) instanceof byte[] pending) || !(handed.get(INPUT_SHUT) instanceof Boolean inputShut)
                || !(handed.get(READ_INTEREST) instanceof Boolean readInterest) || partial.length > 2 + 65535) {
            throw new IOException("not a DNS stream's description: " + handed.keySet());
        }
        DnsStream s = new DnsStream(endpoints, loop, stats, client, events);
        s.queries.put(partial);
        s.answers = ByteBuffer.wrap(pending.clone());
        s.inputShut = inputShut;
        s.readInterest = readInterest;
        return s;
    }

    @Override
    public boolean connecting() {
        return false;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        int taken = 0;
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), queries.remaining());
            if (n == 0) {
                break;
            }
            int limit = src.limit();
            src.limit(src.position() + n);
            queries.put(src);
            src.limit(limit);
            taken += n;
            ask();
        }
        return taken;
    }

    /** Hands every complete query to the DNS service and keeps what is left of an incomplete one. */
    private void ask() throws IOException {
        int end = queries.position();
        int at = 0;
        while (end - at >= 2) {
            int length = queries.getShort(at) & 0xffff;
            if (end - at < 2 + length) {
                break;
            }
            DnsService dns = endpoints.dns();
            if (dns == null) {
                throw new IOException("the DNS service went away");
            }
            ByteBuffer query = queries.duplicate();
            query.limit(at + 2 + length).position(at + 2);
            at += 2 + length;
            unanswered++;
            try {
                dns.answer(query, client, true, this::answered);
            } catch (RuntimeException e) {
                unanswered--;
                LOG.warn("the DNS service failed on a TCP query", e);
            }
            if (closed) {
                return;
            }
        }
        if (at > 0) {
            queries.limit(end).position(at);
            queries.compact();
        }
    }

    private void answered(ByteBuffer answer) {
        loop.lock();
        try {
            unanswered--;
            if (closed) {
                return;
            }
            if (answer != null) {
                int n = answer.remaining();
                if (n > 65535 || answers.remaining() + n + 2 > MAX_PENDING_ANSWERS) {
                    stats.drop(Drop.OVERSIZED);
                } else {
                    append(answer, n);
                }
            }
            if (readInterest) {
                events.readable();
            }
        } finally {
            loop.unlock();
        }
    }

    private void append(ByteBuffer answer, int n) {
        if (answers.capacity() - answers.limit() < n + 2) {
            int needed = answers.remaining() + n + 2;
            if (needed <= answers.capacity()) {
                answers.compact().flip();
            } else {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(needed, 2 * answers.capacity()));
                bigger.put(answers).flip();
                answers = bigger;
            }
        }
        int at = answers.limit();
        answers.limit(at + n + 2);
        answers.putShort(at, (short) n);
        answers.put(at + 2, answer, answer.position(), n);
    }

    @Override
    public int read(ByteBuffer dst) {
        if (!answers.hasRemaining()) {
            return inputShut && unanswered == 0 ? -1 : 0;
        }
        int n = Math.min(dst.remaining(), answers.remaining());
        int limit = answers.limit();
        answers.limit(answers.position() + n);
        dst.put(answers);
        answers.limit(limit);
        return n;
    }

    @Override
    public void readInterest(boolean on) {
        readInterest = on;
    }

    @Override
    public void writeInterest(boolean on) {
        // every write is taken whole: the query buffer holds the largest query
    }

    @Override
    public void shutdownOutput() {
        if (inputShut) {
            return;
        }
        inputShut = true;
        if (readInterest && unanswered == 0 && !answers.hasRemaining()) {
            events.readable();
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public void abort() {
        closed = true;
    }
}
