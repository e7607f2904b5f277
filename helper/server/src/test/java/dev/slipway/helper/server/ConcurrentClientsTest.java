package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperSchema;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrentClientsTest {

    @TempDir
    Path dir;

    @Test
    void thousandConcurrentClientsAreAllServedWithBoundedConnectionsAndThreads() throws Exception {
        int clients = 1000;
        Helper helper = TestHelpers.start(dir, TestHelpers.ownGroup(dir), Optional.empty(), TestHelpers.accounts(Set.of()),
                new Helper.Limits(64, 4, Duration.ofSeconds(5)));
        AtomicInteger mutationsInFlight = new AtomicInteger();
        AtomicInteger maxMutationsInFlight = new AtomicInteger();
        helper.register(HelperSchema.HOSTS_ENSURE, call -> {
            int now = mutationsInFlight.incrementAndGet();
            maxMutationsInFlight.accumulateAndGet(now, Math::max);
            mutationsInFlight.decrementAndGet();
            return Map.of("changed", false);
        });
        Path socket = dir.resolve("run/helper.sock");
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> replies = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                int id = i + 1;
                replies.add(pool.submit(() -> {
                    go.await();
                    try (WireClient client = new WireClient(socket)) {
                        String op = id % 2 == 0 ? "version" : "hosts.ensure";
                        Map<String, Object> reply = client.call("{\"v\":1,\"id\":" + id + ",\"op\":\"" + op + "\"}");
                        return Boolean.TRUE.equals(reply.get("ok")) && ((Number) reply.get("id")).intValue() == id ? "ok" : reply.toString();
                    } catch (IOException e) {
                        return e.toString();
                    }
                }));
            }
            go.countDown();
            int ok = 0;
            for (Future<String> reply : replies) {
                String r = reply.get(90, TimeUnit.SECONDS);
                if (r.equals("ok")) {
                    ok++;
                } else {
                    throw new AssertionError("a client was not served: " + r);
                }
            }
            assertEquals(clients, ok);
            assertTrue(maxMutationsInFlight.get() == 1, "mutating operations run one at a time");
            try (WireClient client = new WireClient(socket)) {
                assertEquals(Boolean.TRUE, client.call("{\"v\":1,\"id\":1,\"op\":\"health\"}").get("ok"), "still serving");
            }
            assertTrue(helper.openConnections() <= 64);
        } finally {
            pool.shutdownNow();
            helper.close();
        }
    }
}
