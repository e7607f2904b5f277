package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.control.CommandResult;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DnsCommandTest {

    private final DnsStats stats = new DnsStats();
    private final DnsServer server = new DnsServer(stats, Configs.dns());
    private final DnsCommand command = new DnsCommand(server, stats);

    @AfterEach
    void stop() {
        server.deactivate();
    }

    @Test
    void queryPrintsTheAnswer() throws Exception {
        CommandResult result = command.execute(List.of("query", "host.docker.internal"));
        assertEquals(0, result.exitCode());
        assertTrue(result.out().contains("192.168.65.254"), result.out());
        CommandResult ptr = command.execute(List.of("query", "1.65.168.192.in-addr.arpa", "ptr"));
        assertTrue(ptr.out().contains("gateway.docker.internal."), ptr.out());
        CommandResult aaaa = command.execute(List.of("query", "host.docker.internal", "AAAA"));
        assertTrue(aaaa.out().contains("fd00:5e7a:1e55:0:0:0:0:254"), aaaa.out());
        CommandResult noData = command.execute(List.of("query", "host.docker.internal", "MX"));
        assertTrue(noData.out().contains("NOERROR") && noData.out().contains("SOA"), noData.out());
    }

    @Test
    void statsShowQueriesAnswersByRcodeCacheAndDrops() throws Exception {
        command.execute(List.of("query", "host.docker.internal"));
        command.execute(List.of("query", "www.example.test"));
        CommandResult result = command.execute(List.of("stats"));
        assertEquals(0, result.exitCode());
        assertTrue(result.out().contains("NOERROR: 1"), result.out());
        assertTrue(result.out().contains("SERVFAIL: 1"), result.out());
        assertTrue(result.out().contains("no-upstream: 1"), result.out());
        assertTrue(result.out().contains("misses: 1"), result.out());
        Map<String, Object> status = stats.status();
        assertTrue(status.containsKey("upstream") && status.containsKey("drops") && status.containsKey("cache"));
        assertTrue(result.out().contains("upstreamsFrom: host"), result.out());
        assertTrue(result.out().contains("localNames: 8"), result.out());
    }

    @Test
    void badUsageIsExitCodeTwo() throws Exception {
        assertEquals(2, command.execute(List.of()).exitCode());
        assertEquals(2, command.execute(List.of("query")).exitCode());
        assertEquals(2, command.execute(List.of("query", "x.test", "NOSUCHTYPE")).exitCode());
        assertEquals(2, command.execute(List.of("frobnicate")).exitCode());
    }
}
