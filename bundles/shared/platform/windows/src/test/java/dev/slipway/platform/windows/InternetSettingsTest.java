package dev.slipway.platform.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxyServer;

class InternetSettingsTest {

    /** reg query output of a corporate laptop: per-protocol servers, overrides with <local>, PAC. */
    static final String PER_PROTOCOL = "\r\n"
            + "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r\n"
            + "    DisableCachingOfSSLPages    REG_DWORD    0x0\r\n"
            + "    IE5_UA_Backup_Flag    REG_SZ    5.0\r\n"
            + "    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)\r\n"
            + "    CertificateRevocation    REG_DWORD    0x1\r\n"
            + "    ProxyEnable    REG_DWORD    0x1\r\n"
            + "    ProxyServer    REG_SZ    http=proxy.corp.example:8080;https=secure.corp.example:8443;ftp=ftp.corp.example:21;socks=socks.corp.example:1080\r\n"
            + "    ProxyOverride    REG_SZ    *.corp.example;10.*;192.168.0.0/16;<local>\r\n"
            + "    AutoConfigURL    REG_SZ    http://wpad.corp.example/wpad.dat\r\n"
            + "    ZonesSecurityUpgrade    REG_BINARY    8F4A3C2B1D0E0000\r\n"
            + "\r\n"
            + "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\5.0\r\n"
            + "    ProxyServer    REG_SZ    wrong.subkey:1\r\n";

    static final String ONE_SERVER = "\r\n"
            + "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r\n"
            + "    ProxyEnable    REG_DWORD    0x1\r\n"
            + "    ProxyServer    REG_SZ    10.1.2.3:3128\r\n"
            + "    ProxyOverride    REG_SZ    \r\n";

    static final String DISABLED = "\r\n"
            + "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r\n"
            + "    ProxyEnable    REG_DWORD    0x0\r\n"
            + "    ProxyServer    REG_SZ    old.proxy:8080\r\n"
            + "    ProxyOverride    REG_SZ    <local>\r\n";

    @Test
    void perProtocolServersOverridesAndPacUrlAreRead() {
        ProxyConfig c = InternetSettings.parse(PER_PROTOCOL);
        assertEquals(new ProxyServer("http", "proxy.corp.example", 8080, null, null), c.http());
        assertEquals(new ProxyServer("http", "secure.corp.example", 8443, null, null), c.https());
        assertEquals(new ProxyServer("socks4", "socks.corp.example", 1080, null, null), c.all());
        assertEquals(List.of("*.corp.example", "10.*", "192.168.0.0/16", "<local>"), c.noProxy());
        assertEquals("http://wpad.corp.example/wpad.dat", c.pacUrl());
        assertEquals("HKCU Internet Settings", c.source());
    }

    @Test
    void oneServerForAllProtocolsAndAnEmptyOverride() {
        ProxyConfig c = InternetSettings.parse(ONE_SERVER);
        assertEquals(new ProxyServer("http", "10.1.2.3", 3128, null, null), c.http());
        assertEquals(c.http(), c.https());
        assertEquals(List.of(), c.noProxy());
        assertNull(c.pacUrl());
    }

    @Test
    void proxyEnableZeroMeansNoProxy() {
        assertTrue(InternetSettings.parse(DISABLED).isEmpty());
        assertTrue(InternetSettings.parse("ERROR: The system was unable to find the specified registry key or value.").isEmpty());
    }

    @Test
    void componentRunsRegQueryOnTheUserKey() {
        List<List<String>> ran = new java.util.ArrayList<>();
        CommandRunner runner = (command, timeout) -> {
            ran.add(command);
            return new CommandRunner.Result(0, ONE_SERVER, "");
        };
        var settings = new WindowsProxySettings(runner, ProxyConfig.none(ProxyEnvironment.SOURCE), false);
        assertEquals(List.of(List.of("reg.exe", "query",
                "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings")), ran);
        assertEquals("10.1.2.3", settings.current().http().host());
    }
}
