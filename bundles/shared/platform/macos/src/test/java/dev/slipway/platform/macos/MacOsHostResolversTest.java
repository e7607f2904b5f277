package dev.slipway.platform.macos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MacOsHostResolversTest {

    /** {@code scutil --dns} on a Mac on Wi-Fi with a split-tunnel VPN and an /etc/resolver/test file. */
    static final String SAMPLE = """
            DNS configuration

            resolver #1
              search domain[0] : home.arpa
              nameserver[0] : 192.168.1.1
              nameserver[1] : 2001:db8:1::1
              if_index : 14 (en0)
              flags    : Request A records, Request AAAA records
              reach    : 0x00020002 (Reachable,Directly Reachable Address)

            resolver #2
              domain   : local
              options  : mdns
              timeout  : 5
              flags    : Request A records, Request AAAA records
              reach    : 0x00000000 (Not Reachable)
              order    : 300000

            resolver #3
              domain   : 254.169.in-addr.arpa
              options  : mdns
              timeout  : 5
              flags    : Request A records, Request AAAA records
              reach    : 0x00000000 (Not Reachable)
              order    : 300200

            resolver #4
              domain   : 8.e.f.ip6.arpa
              options  : mdns
              timeout  : 5
              flags    : Request A records, Request AAAA records
              reach    : 0x00000000 (Not Reachable)
              order    : 300400

            resolver #5
              domain   : corp.example.com
              nameserver[0] : 10.8.0.1
              nameserver[1] : 10.8.0.2
              if_index : 21 (utun4)
              flags    : Supplemental, Request A records
              reach    : 0x00000003 (Reachable,Transient Connection)
              order    : 102400

            resolver #6
              domain   : test
              nameserver[0] : 127.0.0.1
              port     : 15353
              flags    : Request A records, Request AAAA records
              reach    : 0x00030002 (Reachable,Local Address,Directly Reachable Address)

            DNS configuration (for scoped queries)

            resolver #1
              search domain[0] : home.arpa
              nameserver[0] : 192.168.1.1
              if_index : 14 (en0)
              flags    : Scoped, Request A records
              reach    : 0x00020002 (Reachable,Directly Reachable Address)

            resolver #2
              nameserver[0] : 10.8.0.1
              if_index : 21 (utun4)
              flags    : Scoped, Request A records
              reach    : 0x00000003 (Reachable,Transient Connection)
            """;

    private static InetSocketAddress at(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    @Test
    void defaultResolversComeFirstThenPerDomainOnesWithoutMulticastOrScopedCopies() {
        List<HostResolvers.Resolver> resolvers = ScutilDns.parse(SAMPLE);
        assertEquals(List.of(
                HostResolvers.Resolver.of(at("192.168.1.1", 53)),
                HostResolvers.Resolver.of(at("2001:db8:1::1", 53)),
                new HostResolvers.Resolver(at("10.8.0.1", 53), List.of("corp.example.com")),
                new HostResolvers.Resolver(at("10.8.0.2", 53), List.of("corp.example.com")),
                new HostResolvers.Resolver(at("127.0.0.1", 15353), List.of("test"))), resolvers);
    }

    @Test
    void noNetworkMeansNoResolvers() {
        assertEquals(List.of(), ScutilDns.parse("DNS configuration\n\nNo DNS configuration available\n"));
    }

    @Test
    void scutilRunsThroughTheCommandRunnerAndAChangeIsHeard() throws Exception {
        List<List<String>> ran = new ArrayList<>();
        String[] output = {SAMPLE};
        CommandRunner fake = (command, timeout) -> {
            ran.add(command);
            return new CommandRunner.Result(0, output[0], "");
        };
        MacOsHostResolvers hr = new MacOsHostResolvers(fake, false);
        List<List<HostResolvers.Resolver>> heard = new ArrayList<>();
        hr.addListener(heard::add);
        assertEquals(1, heard.size(), "a listener hears the current list when it is bound");
        assertEquals(5, hr.resolvers().size());
        assertEquals(List.of("/usr/sbin/scutil", "--dns"), ran.get(0));
        output[0] = SAMPLE.substring(0, SAMPLE.indexOf("resolver #5"));
        hr.refresh();
        assertEquals(2, heard.size());
        assertEquals(hr.resolvers(), heard.get(1));
        assertEquals(2, hr.resolvers().size());
    }

    @Test
    void aFailingScutilKeepsTheLastResolvers() throws Exception {
        boolean[] fail = {false};
        CommandRunner fake = (command, timeout) -> {
            if (fail[0]) {
                throw new java.io.IOException("scutil did not finish within " + Duration.ofSeconds(10));
            }
            return new CommandRunner.Result(0, SAMPLE, "");
        };
        MacOsHostResolvers hr = new MacOsHostResolvers(fake, false);
        fail[0] = true;
        hr.refresh();
        assertEquals(5, hr.resolvers().size());
    }
}
