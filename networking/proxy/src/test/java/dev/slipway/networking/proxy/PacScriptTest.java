package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.proxy.ProxyServer;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PacScriptTest {
    /** A corporate PAC file of the usual shape. */
    static final String CORPORATE = """
            function FindProxyForURL(url, host) {
              if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example") || localHostOrDomainIs(host, "intranet.corp.example"))
                return "DIRECT";
              if (isInNet(host, "10.0.0.0", "255.0.0.0") || isInNet(dnsResolve(host), "172.16.0.0", "255.240.0.0"))
                return "DIRECT";
              if (shExpMatch(host, "*.registry.example") || shExpMatch(url, "https://ghcr.example/*"))
                return "PROXY special.corp.example:8443; DIRECT";
              if (url.substring(0, 5) == "http:")
                return "PROXY proxy.corp.example:3128; PROXY backup.corp.example:3128";
              return "SOCKS socks.corp.example:1080; PROXY proxy.corp.example:3128";
            }
            """;
    static final Map<String, String> DNS = Map.of("build.internal.example", "172.20.1.5", "www.example.org", "93.184.0.1");

    static PacScript compile(String source) {
        return PacScript.compile("http://wpad/proxy.pac", source, DNS::get, "10.1.2.3", 300);
    }

    @Test
    void corporateScriptAnswersPerDestination() {
        PacScript pac = compile(CORPORATE);
        assertEquals("DIRECT", pac.find("http://wiki/", "wiki"));
        assertEquals("DIRECT", pac.find("https://git.corp.example/", "git.corp.example"));
        assertEquals("DIRECT", pac.find("http://10.9.8.7/", "10.9.8.7"));
        assertEquals("DIRECT", pac.find("https://build.internal.example/", "build.internal.example"));
        assertEquals("PROXY special.corp.example:8443; DIRECT", pac.find("https://eu.registry.example/v2/", "eu.registry.example"));
        assertEquals("PROXY proxy.corp.example:3128; PROXY backup.corp.example:3128", pac.find("http://www.example.org/", "www.example.org"));
    }

    @Test
    void choicesSkipSocksAndKeepOrder() {
        List<PacScript.Choice> c = PacScript.choices("SOCKS socks:1080; PROXY proxy.corp.example:3128; DIRECT");
        assertEquals(List.of(new PacScript.Choice(new ProxyServer("http", "proxy.corp.example", 3128, null, null)), PacScript.Choice.DIRECT), c);
        assertEquals(List.of(), PacScript.choices("garbage; PROXY ; PROXY a:99999"));
    }

    @Test
    void anEndlessScriptIsStoppedWithinItsBudget() {
        PacScript pac = compile("function FindProxyForURL(u, h) { while (true) {} }");
        long start = System.nanoTime();
        var e = assertThrows(IllegalStateException.class, () -> pac.find("http://a/", "a"));
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
        assertTrue(e.getMessage().contains("longer than"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> compile("while (true) {}"), "a top level that never ends");
    }

    @Test
    void brokenScriptsAreRefusedWithAReason() {
        var noFunction = assertThrows(IllegalArgumentException.class, () -> compile("var x = 1;"));
        assertTrue(noFunction.getMessage().contains("FindProxyForURL"));
        assertThrows(IllegalArgumentException.class, () -> compile("function FindProxyForURL(url, host) {"));
        PacScript throwing = compile("function FindProxyForURL(u, h) { return noSuchHelper(9, 17) ? 'DIRECT' : 'PROXY p:1'; }");
        assertThrows(IllegalStateException.class, () -> throwing.find("http://a/", "a"));
    }

    @Test
    void scriptsCannotReachJava() {
        PacScript pac = compile("function FindProxyForURL(u, h) { return typeof java + ' ' + typeof Packages; }");
        assertEquals("undefined undefined", pac.find("http://a/", "a"));
    }
}
