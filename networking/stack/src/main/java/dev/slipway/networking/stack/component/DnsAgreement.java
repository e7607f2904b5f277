package dev.slipway.networking.stack.component;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.slipway.dns.api.DnsEntry;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.ip6.Ip6;

/**
 * Whether the DNS server's names for the gateway and the host alias answer AAAA with the guest
 * network's IPv6 addresses. The DNS server has IPv6 address settings of its own; a custom IPv6
 * prefix for the guest network without them would hand guests addresses nobody answers. A name is
 * the gateway's (the host alias's) when its A record is the gateway's (the host alias's) IPv4 address.
 */
final class DnsAgreement {
    private DnsAgreement() {
    }

    /** What disagrees, one sentence each saying which DNS setting to change; empty when all agree or IPv6 is off. */
    static List<String> disagreements(List<DnsEntry> records, NetConfig config) {
        List<String> problems = new ArrayList<>();
        if (!config.ipv6().enabled()) {
            return problems;
        }
        InetAddress gateway4 = address(Ip4.toString(config.gateway()));
        InetAddress hostAlias4 = address(Ip4.toString(config.hostAlias()));
        InetAddress gateway6 = address(config.ipv6().gatewayText());
        InetAddress hostAlias6 = address(config.ipv6().hostAliasText());
        Map<String, InetAddress> expected = new HashMap<>();
        Map<String, String> setting = new HashMap<>();
        for (DnsEntry e : records) {
            if (!e.regex() && e.type().equalsIgnoreCase("A")) {
                InetAddress a = address(e.data());
                if (gateway4.equals(a)) {
                    expected.put(key(e.name()), gateway6);
                    setting.put(key(e.name()), "the guest network's IPv6 gateway " + config.ipv6().gatewayText()
                            + ": set gatewayAddress6 of the DNS configuration (dev.slipway.dns) to it");
                } else if (hostAlias4.equals(a)) {
                    expected.put(key(e.name()), hostAlias6);
                    setting.put(key(e.name()), "the guest network's IPv6 host alias " + config.ipv6().hostAliasText()
                            + ": set hostAddress6 of the DNS configuration (dev.slipway.dns) to it");
                }
            }
        }
        for (DnsEntry e : records) {
            InetAddress want = e.regex() || !e.type().equalsIgnoreCase("AAAA") ? null : expected.get(key(e.name()));
            if (want == null) {
                continue;
            }
            InetAddress have = address(e.data());
            if (!want.equals(have)) {
                problems.add(e.name() + " answers AAAA " + text(have, e.data()) + ", not " + setting.get(key(e.name())));
            }
        }
        return problems;
    }

    private static String text(InetAddress address, String fallback) {
        if (address == null || address.getAddress().length != 16) {
            return fallback;
        }
        ByteBuffer b = ByteBuffer.wrap(address.getAddress());
        return Ip6.toString(b.getLong(0), b.getLong(8));
    }

    private static String key(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".") ? n : n + ".";
    }

    /** A literal address (never a name lookup), or null when the text is none. */
    private static InetAddress address(String literal) {
        String s = literal.strip();
        if (s.isEmpty() || !(s.indexOf(':') >= 0 || Character.isDigit(s.charAt(0)))) {
            return null;
        }
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
