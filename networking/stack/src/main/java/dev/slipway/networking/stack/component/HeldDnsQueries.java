package dev.slipway.networking.stack.component;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import dev.slipway.dns.api.DnsService;

/**
 * Stands in for the DNS service while it is being replaced (the dns bundle is updated): queries to
 * the gateway are kept, up to {@value #MAX_HELD} for {@value #HOLD_MILLIS} ms, and passed to the
 * next DNS service when it arrives, so an update of dns loses no query. Copies each held query;
 * it only serves during a swap.
 */
final class HeldDnsQueries implements DnsService {

    static final int MAX_HELD = 4096;
    static final long HOLD_MILLIS = 5000;

    private record Held(byte[] query, InetSocketAddress client, boolean tcp, Reply reply, long arrived) {}

    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private DnsService next;

    @Override
    public void answer(ByteBuffer query, InetSocketAddress client, boolean tcp, Reply reply) {
        DnsService target;
        synchronized (this) {
            target = next;
            if (target == null) {
                expire(System.nanoTime());
                if (held.size() >= MAX_HELD) {
                    reply.send(null);
                    return;
                }
                byte[] copy = new byte[query.remaining()];
                query.get(query.position(), copy);
                held.add(new Held(copy, client, tcp, reply, System.nanoTime()));
                return;
            }
        }
        target.answer(query, client, tcp, reply);
    }

    /** Hands every held query to {@code service}; later ones go straight to it. Returns how many were held. */
    int replayTo(DnsService service) {
        ArrayDeque<Held> pending;
        synchronized (this) {
            next = service;
            expire(System.nanoTime());
            pending = new ArrayDeque<>(held);
            held.clear();
        }
        for (Held h : pending) {
            service.answer(ByteBuffer.wrap(h.query), h.client, h.tcp, h.reply);
        }
        return pending.size();
    }

    private void expire(long now) {
        while (!held.isEmpty() && now - held.peek().arrived > HOLD_MILLIS * 1_000_000L) {
            held.poll().reply.send(null);
        }
    }
}
