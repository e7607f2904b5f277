package dev.slipway.platform.macos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.api.proxy.ProxySettings;

class ScutilProxyTest {

    /** A corporate Mac: manual HTTP/HTTPS proxy, bypass list, PAC URL, scoped copy per interface. */
    static final String CORPORATE = """
            <dictionary> {
              ExceptionsList : <array> {
                0 : *.local
                1 : 169.254/16
                2 : .corp.example
                3 : 10.0.0.0/8
              }
              ExcludeSimpleHostnames : 1
              FTPPassive : 1
              HTTPEnable : 1
              HTTPPort : 3128
              HTTPProxy : proxy.corp.example
              HTTPSEnable : 1
              HTTPSPort : 3129
              HTTPSProxy : proxy.corp.example
              ProxyAutoConfigEnable : 1
              ProxyAutoConfigURLString : http://wpad.corp.example/proxy.pac
              ProxyAutoDiscoveryEnable : 1
              SOCKSEnable : 0
              __SCOPED__ : <dictionary> {
                en0 : <dictionary> {
                  ExceptionsList : <array> {
                    0 : scoped.only
                  }
                  HTTPEnable : 1
                  HTTPPort : 9999
                  HTTPProxy : scoped.proxy
                }
              }
            }
            """;

    /** A home Mac: nothing enabled, the values of an old setup still present. */
    static final String DISABLED = """
            <dictionary> {
              ExceptionsList : <array> {
                0 : *.local
                1 : 169.254/16
              }
              FTPPassive : 1
              HTTPEnable : 0
              HTTPPort : 8080
              HTTPProxy : old.proxy
              HTTPSEnable : 0
              ProxyAutoConfigEnable : 0
              ProxyAutoConfigURLString : http://old/proxy.pac
            }
            """;

    @Test
    void corporateSettingsGiveProxiesExceptionsPacUrlAndDiscovery() {
        ProxyConfig c = ScutilProxy.parse(CORPORATE);
        assertEquals(new ProxyServer("http", "proxy.corp.example", 3128, null, null), c.http());
        assertEquals(new ProxyServer("http", "proxy.corp.example", 3129, null, null), c.https());
        assertNull(c.all());
        assertEquals(List.of("*.local", "169.254/16", ".corp.example", "10.0.0.0/8", "<local>"), c.noProxy());
        assertEquals("http://wpad.corp.example/proxy.pac", c.pacUrl());
        assertTrue(c.autoDiscovery());
        assertEquals("scutil --proxy", c.source());
    }

    @Test
    void disabledEntriesAreIgnored() {
        ProxyConfig c = ScutilProxy.parse(DISABLED);
        assertNull(c.http());
        assertNull(c.https());
        assertNull(c.pacUrl());
        assertFalse(c.autoDiscovery());
        assertTrue(c.isEmpty());
    }

    @Test
    void garbageGivesNoProxyRatherThanAnError() {
        assertTrue(ScutilProxy.parse("scutil: no such thing\n}}}\n{ : :").isEmpty());
        assertTrue(ScutilProxy.parse("<dictionary> {\n HTTPEnable : 1\n HTTPPort : 99999\n HTTPProxy : x\n}").isEmpty());
    }

    @Test
    void environmentWinsAndSystemChangesReachListeners() {
        String[] output = {DISABLED};
        CommandRunner runner = (command, timeout) -> new CommandRunner.Result(0, output[0], "");
        var settings = new MacOsProxySettings(runner, ProxyConfig.none(ProxyEnvironment.SOURCE), false);
        assertTrue(settings.current().isEmpty());
        List<ProxyConfig> heard = new ArrayList<>();
        settings.addListener((ProxySettings.Listener) heard::add);
        output[0] = CORPORATE;
        settings.refresh();
        assertEquals("proxy.corp.example", settings.current().http().host());
        assertEquals(1, heard.size());

        var env = ProxyEnvironment.parse(Map.of("HTTPS_PROXY", "http://envproxy:1"), p -> { });
        var withEnv = new MacOsProxySettings(runner, env, false);
        assertEquals("environment", withEnv.current().source());
        assertEquals("envproxy", withEnv.current().https().host());
    }
}
