package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.ip6.Ip6Config;

/** The guest network's IPv6 addresses against the AAAA answers of a real DNS server's built-in names. */
class DnsAgreementTest {
    static final NetConfig CUSTOM = NetConfig.builder().ipv6(Ip6Config.of(true, "fd12:3456:789a::/64", "fd12:3456:789a::1",
            "fd12:3456:789a::fe", 60)).build();

    @Test
    void theDefaultsAgree() {
        assertEquals(List.of(), DnsAgreement.disagreements(served(Map.of()), NetConfig.defaults()));
    }

    @Test
    void aCustomPrefixWithTheDnsDefaultsNamesBothSettingsToChange() {
        List<String> problems = DnsAgreement.disagreements(served(Map.of()), CUSTOM);
        assertEquals(2, problems.size(), problems.toString());
        String all = String.join("\n", problems);
        assertTrue(all.contains("gateway.docker.internal. answers AAAA fd00:5e7a:1e55::1"), all);
        assertTrue(all.contains("not the guest network's IPv6 gateway fd12:3456:789a::1: set gatewayAddress6 of the DNS "
                + "configuration (dev.slipway.dns) to it"), all);
        assertTrue(all.contains("host.docker.internal. answers AAAA fd00:5e7a:1e55::254, not the guest network's IPv6 host alias "
                + "fd12:3456:789a::fe: set hostAddress6"), all);
    }

    @Test
    void matchingDnsSettingsOrNoAaaaOrIpv6OffAgree() {
        assertEquals(List.of(), DnsAgreement.disagreements(served(Map.of("gatewayAddress6", "fd12:3456:789a::1",
                "hostAddress6", "fd12:3456:789a:0::fe")), CUSTOM));
        assertEquals(List.of(), DnsAgreement.disagreements(served(Map.of("gatewayAddress6", "", "hostAddress6", "")), CUSTOM));
        NetConfig off = NetConfig.builder().ipv6(Ip6Config.of(false, "fd00:5e7a:1e55::/64", "fd00:5e7a:1e55::1", "fd00:5e7a:1e55::254", 60)).build();
        assertEquals(List.of(), DnsAgreement.disagreements(served(Map.of()), off));
    }

    @Test
    void namesAreTheGatewaysByTheirIpv4AddressNotByTheirText() {
        List<DnsEntry> records = List.of(DnsEntry.of("router.example.", "A", "192.168.65.1"),
                DnsEntry.of("ROUTER.example", "AAAA", "fd00::1"), DnsEntry.of("elsewhere.example.", "AAAA", "2001:db8::1"),
                DnsEntry.matching(".*\\.example", "AAAA", "2001:db8::2"));
        List<String> problems = DnsAgreement.disagreements(records, CUSTOM);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("ROUTER.example answers AAAA fd00::1"), problems.get(0));
    }

    private static List<DnsEntry> served(Map<String, Object> overrides) {
        DnsServer server = new DnsServer(new DnsStats(), config(overrides));
        try {
            return server.localRecords();
        } finally {
            server.deactivate();
        }
    }

    private static DnsConfig config(Map<String, Object> overrides) {
        return (DnsConfig) Proxy.newProxyInstance(DnsConfig.class.getClassLoader(), new Class<?>[] {DnsConfig.class},
                (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                                : method.getName().equals("equals") ? proxy == args[0] : "DnsConfig";
                    }
                    if (method.getName().equals("annotationType")) {
                        return DnsConfig.class;
                    }
                    Object v = overrides.get(method.getName());
                    return v != null ? v : method.getDefaultValue();
                });
    }
}
