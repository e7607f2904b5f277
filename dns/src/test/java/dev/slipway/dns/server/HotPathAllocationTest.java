package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Type;

import dev.slipway.dns.api.DnsService;

/** The hot paths (built-in names, cache hits) allocate nothing per query once warmed up. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HotPathAllocationTest {

    private static final int QUERIES = 50_000;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private static long bytesPerQuery(DnsService server, byte[] query) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(512);
        buffer.put(query).flip();
        int[] answered = {0};
        DnsService.Reply reply = answer -> answered[0] += answer.remaining() > 0 ? 1 : 0;
        for (int i = 0; i < QUERIES; i++) {
            server.answer(buffer, Client.LOCAL, false, reply);
        }
        answered[0] = 0;
        long before = allocatedBytes();
        for (int i = 0; i < QUERIES; i++) {
            server.answer(buffer, Client.LOCAL, false, reply);
        }
        long after = allocatedBytes();
        assertEquals(QUERIES, answered[0]);
        return (after - before) / QUERIES;
    }

    @Test
    void builtInNamesAndCacheHitsAllocateNothingPerQuery() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "needs a JVM that counts allocated bytes per thread (HotSpot)");
        try (FakeUpstream up = new FakeUpstream(ForwardingTest::answer)) {
            DnsServer server = new DnsServer(new DnsStats(), Configs.dns(Map.of("upstreams", new String[] {up.address()})));
            try {
                long builtIn = bytesPerQuery(server, Client.query("Host.Docker.Internal", Type.A).toWire());
                long noData = bytesPerQuery(server, Client.query("host.docker.internal", Type.AAAA).toWire());
                Client.ask(server, "www.example.test", Type.A);
                long cached = bytesPerQuery(server, Client.query("www.example.test", Type.A).toWire());
                assertTrue(builtIn == 0 && noData == 0 && cached == 0,
                        "bytes per query: built-in " + builtIn + ", no data " + noData + ", cache hit " + cached);
            } finally {
                server.deactivate();
            }
        }
    }
}
