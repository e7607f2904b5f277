package dev.slipway.networking.stack.ip6;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.MemoryTransport;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;

/**
 * A stack handed over to its next version still answers the guest's DNS queries to the gateway's
 * IPv6 address and its neighbour solicitations while the update runs (as it does over IPv4), and
 * holds the rest of the guest's IPv6 traffic for the next version.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Dns6DuringHandoverTest {
    private final List<NetStack> stacks = new ArrayList<>();
    private final MemoryTransport link = new MemoryTransport();
    private NetStack old;

    @BeforeEach
    void start() {
        old = new NetStack(NetConfig.defaults());
        stacks.add(old);
        old.dns((query, client, tcp, reply) -> {
            ByteBuffer answer = ByteBuffer.allocate(query.remaining());
            answer.put(query.duplicate()).flip();
            answer.put(2, (byte) 0x81);
            reply.send(answer);
        });
        old.attach(link);
    }

    @AfterEach
    void stop() {
        stacks.forEach(NetStack::close);
    }

    private ByteBuffer await(Predicate<ByteBuffer> match, long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        for (long left; (left = until - System.nanoTime()) > 0; ) {
            ByteBuffer f = link.next(Math.max(1, left / 1_000_000));
            if (f != null && match.test(f)) {
                return f;
            }
        }
        return null;
    }

    private static boolean isIcmp6(ByteBuffer f, int type) {
        return f.limit() > 54 && f.getShort(12) == (short) 0x86dd && f.get(20) == 58 && (f.get(54) & 0xff) == type;
    }

    private void neighbourSolicitation() throws InterruptedException {
        link.inject(Guest6.solicitation(Guest6.GUEST, Guest6.GATEWAY, 255));
        assertNotNull(await(f -> isIcmp6(f, 136), 5000), "the gateway's neighbour advertisement");
    }

    private ByteBuffer dns(int id) throws InterruptedException {
        byte[] q = {(byte) (id >> 8), (byte) id, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        link.inject(Guest6.packet(Guest6.GATEWAY_MAC, Guest6.GUEST, Guest6.GATEWAY, 64, 17, Guest6.udp(Guest6.GUEST, Guest6.GATEWAY, 4053, 53, q)));
        return await(f -> f.limit() >= 54 + 8 + 12 && f.getShort(12) == (short) 0x86dd && f.get(20) == 17
                && (f.getShort(54) & 0xffff) == 53 && (f.getShort(62) & 0xffff) == (id & 0xffff), 3000);
    }

    @Test
    void dnsToTheGatewaysIpv6AddressIsAnsweredWhileTheStackIsHandedOver() throws Exception {
        neighbourSolicitation();
        assertNotNull(dns(0x0601), "answered before the update");

        NetStack.HandOver handed = old.handOver();
        neighbourSolicitation();
        ByteBuffer answer = dns(0x0602);
        assertNotNull(answer, "answered by the outgoing stack during the update, not held");
        assertEquals(0x81, answer.get(64) & 0xff, "the DNS service's answer");
        // anything else waits for the next version
        link.inject(Guest6.icmpFrame(Guest6.GUEST, Guest6.HOST_ALIAS, 64, 128, 0, new byte[] {0, 1, 0, 1}));
        assertNull(await(f -> isIcmp6(f, 129), 300), "an echo request to the host alias is held, not answered");

        NetStack next = new NetStack(NetConfig.defaults());
        stacks.add(next);
        next.dns((query, client, tcp, reply) -> {
            ByteBuffer a = ByteBuffer.allocate(query.remaining());
            a.put(query.duplicate()).flip();
            a.put(2, (byte) 0x81);
            reply.send(a);
        });
        var description = handed.links().get(0).get();
        assertNotNull(description, "the link detaches");
        next.attach(link, dev.slipway.networking.stack.transport.LinkHandover.held(description));
        assertNotNull(await(f -> isIcmp6(f, 129), 5000), "the held echo request is answered by the next version");
        assertNotNull(dns(0x0603), "answered after the update");
    }
}
