package dev.slipway.api.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ProxyEnvironmentTest {

    @Test
    void upperCaseVariablesWithCredentialsAndNoProxyListAreRead() {
        var c = ProxyEnvironment.parse(Map.of(
                "HTTP_PROXY", "http://alice:s%40cret@proxy.corp.example:3128",
                "HTTPS_PROXY", "proxy.corp.example:8443",
                "NO_PROXY", "localhost, .corp.example,10.0.0.0/8 ,192.168.1.7"), p -> { });
        assertEquals(new ProxyServer("http", "proxy.corp.example", 3128, "alice", "s@cret"), c.http());
        assertEquals(new ProxyServer("http", "proxy.corp.example", 8443, null, null), c.https());
        assertEquals(List.of("localhost", ".corp.example", "10.0.0.0/8", "192.168.1.7"), c.noProxy());
        assertEquals("environment", c.source());
    }

    @Test
    void lowerCaseWinsOverUpperCaseAndAllProxyIsTheFallback() {
        var c = ProxyEnvironment.parse(Map.of(
                "http_proxy", "http://lower:1", "HTTP_PROXY", "http://upper:2",
                "ALL_PROXY", "socks5://socks.example"), p -> { });
        assertEquals("lower", c.http().host());
        assertEquals(new ProxyServer("socks5", "socks.example", 1080, null, null), c.forHttps());
        assertEquals(c.http(), c.forHttp());
    }

    @Test
    void unreadableVariableIsReportedAndIgnoredWithoutLeakingItsPassword() {
        List<String> problems = new ArrayList<>();
        var c = ProxyEnvironment.parse(Map.of("https_proxy", "http://bob:topsecret@bad host:99"), problems::add);
        assertNull(c.https());
        assertTrue(c.isEmpty());
        assertEquals(1, problems.size(), problems.toString());
        assertFalse(problems.get(0).contains("topsecret"), problems.get(0));
    }

    @Test
    void passwordNeverAppearsInToString() {
        var s = ProxyServer.parse("http://u:pw123@[::1]:8080");
        assertEquals("::1", s.host());
        assertFalse(s.toString().contains("pw123"), s.toString());
        assertEquals("http://u:***@[::1]:8080", s.toString());
    }

    @Test
    void outOfRangePortsAndMissingHostsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ProxyServer.parse("http://h:70000"));
        assertThrows(IllegalArgumentException.class, () -> ProxyServer.parse("http://:8080"));
        assertThrows(IllegalArgumentException.class, () -> ProxyServer.parse("   "));
    }
}
