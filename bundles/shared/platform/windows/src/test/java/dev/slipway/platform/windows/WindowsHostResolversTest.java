package dev.slipway.platform.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WindowsHostResolversTest {

    /**
     * The script's output on a laptop on Wi-Fi (index 12), connected to a VPN (index 31, metric 1)
     * with an NRPT rule, with WSL's virtual switch up: CRLF line ends, the IPv6 placeholders
     * Windows shows when no IPv6 server is set, an adapter without servers.
     */
    static final String SAMPLE = "server|12|35|2|192.168.1.1\r\n"
            + "server|12|35|23|fec0:0:0:ffff::1%1,fec0:0:0:ffff::2%1,fec0:0:0:ffff::3%1\r\n"
            + "server|31|1|2|10.8.0.1,10.8.0.2\r\n"
            + "server|31|1|23|\r\n"
            + "server|45|5000|2|172.29.176.1\r\n"
            + "server|45|5000|23|2001:db8::53\r\n"
            + "nrpt|.corp.example.com|10.8.0.1\r\n"
            + "nrpt|.contoso.test,fabrikam.test|10.9.0.53\r\n"
            + "nrpt||10.9.9.9\r\n";

    private static HostResolvers.Resolver server(String ip) {
        return HostResolvers.Resolver.of(new InetSocketAddress(ip, 53));
    }

    @Test
    void adaptersAreOrderedByMetricAndNrptRulesBecomePerDomainResolvers() {
        List<HostResolvers.Resolver> resolvers = DnsClientOutput.parse(SAMPLE);
        assertEquals(List.of(
                server("10.8.0.1"), server("10.8.0.2"), server("192.168.1.1"), server("172.29.176.1"), server("2001:db8::53"),
                new HostResolvers.Resolver(new InetSocketAddress("10.8.0.1", 53), List.of("corp.example.com")),
                new HostResolvers.Resolver(new InetSocketAddress("10.9.0.53", 53), List.of("contoso.test", "fabrikam.test"))),
                resolvers);
    }

    @Test
    void theScriptRunsThroughTheCommandRunnerWithoutAShell() {
        List<List<String>> ran = new ArrayList<>();
        CommandRunner fake = (command, timeout) -> {
            ran.add(command);
            return new CommandRunner.Result(0, SAMPLE, "");
        };
        WindowsHostResolvers hr = new WindowsHostResolvers(fake, false);
        assertEquals(7, hr.resolvers().size());
        assertEquals("powershell.exe", ran.get(0).get(0));
        assertTrue(ran.get(0).get(4).contains("Get-DnsClientServerAddress"));
    }

    @Test
    void changesAreHeardAndFailuresKeepTheLastList() {
        String[] output = {SAMPLE};
        int[] exit = {0};
        CommandRunner fake = (command, timeout) -> new CommandRunner.Result(exit[0], output[0], "boom");
        WindowsHostResolvers hr = new WindowsHostResolvers(fake, false);
        List<List<HostResolvers.Resolver>> heard = new ArrayList<>();
        hr.addListener(heard::add);
        output[0] = "server|12|35|2|192.168.1.1\r\n";
        hr.refresh();
        assertEquals(List.of(server("192.168.1.1")), hr.resolvers());
        exit[0] = 1;
        output[0] = "";
        hr.refresh();
        assertEquals(List.of(server("192.168.1.1")), hr.resolvers());
        assertEquals(2, heard.size(), "the list when it was bound, then the one change");
        assertEquals(List.of(server("192.168.1.1")), heard.get(1));
    }
}
