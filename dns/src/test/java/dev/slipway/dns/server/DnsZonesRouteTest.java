package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Constants;

import dev.slipway.api.control.ControlRoute;
import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.api.DnsRecordSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DnsZonesRouteTest {

    private static String get(DnsServer server) {
        ControlRoute.Response r = new DnsZonesRoute(server).handle(new ControlRoute.Request("GET", Map.of(), new byte[0]));
        assertEquals(200, r.status());
        assertEquals("text/plain; charset=utf-8", r.contentType());
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    @Test
    void builtInNamesAreListedAsGvisorTapVsockZonesWithTheirAddresses() {
        DnsServer server = new DnsServer(new DnsStats(), Configs.dns(Map.of("vmNames", new String[0])));
        try {
            assertEquals("[{\"Name\":\"docker.internal.\",\"Records\":["
                    + "{\"Name\":\"gateway\",\"IP\":\"192.168.65.1\"},"
                    + "{\"Name\":\"host\",\"IP\":\"192.168.65.254\"},"
                    + "{\"Name\":\"kubernetes\",\"IP\":\"127.0.0.1\"}],\"DefaultIP\":\"\"}]\n", get(server));
        } finally {
            server.deactivate();
        }
    }

    @Test
    void contributedRecordsRegexRulesAndAuthoritativeZonesAppearAndOtherTypesAreLeftOut() {
        DnsServer server = new DnsServer(new DnsStats(), Configs.dns(Map.of("vmNames", new String[0],
                "gatewayNames", new String[0], "hostNames", new String[0], "kubernetesNames", new String[0])));
        DnsRecordSource source = new DnsRecordSource() {
            @Override
            public List<DnsEntry> records() {
                return List.of(DnsEntry.of("vm.docker.internal", "A", "192.168.65.3"),
                        DnsEntry.of("vm.docker.internal", "AAAA", "fd00::3"),
                        DnsEntry.of("web.Apps.Test.", "A", "192.168.65.9"),
                        DnsEntry.of("txt.apps.test", "TXT", "\"hello\""),
                        DnsEntry.matching(".*\\.<wild>\\.test", "A", "192.168.65.7"));
            }

            @Override
            public List<String> zones() {
                return List.of("empty.test");
            }
        };
        server.addSource(source, Map.of(Constants.SERVICE_ID, 7L));
        try {
            String json = get(server);
            assertEquals("[{\"Name\":\"\",\"Records\":[{\"Name\":\"\",\"IP\":\"192.168.65.7\",\"Regexp\":\".*\\\\.\\u003cwild\\u003e\\\\.test\"}],\"DefaultIP\":\"\"},"
                    + "{\"Name\":\"apps.test.\",\"Records\":[{\"Name\":\"web\",\"IP\":\"192.168.65.9\"}],\"DefaultIP\":\"\"},"
                    + "{\"Name\":\"docker.internal.\",\"Records\":[{\"Name\":\"vm\",\"IP\":\"192.168.65.3\"}],\"DefaultIP\":\"\"},"
                    + "{\"Name\":\"empty.test.\",\"Records\":null,\"DefaultIP\":\"\"}]\n", json);
            server.removeSource(source);
            assertTrue(server.localRecords().isEmpty());
            assertEquals("[]\n", get(server));
        } finally {
            server.deactivate();
        }
    }
}
