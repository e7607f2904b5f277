package dev.slipway.networking.stack.component;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.ip6.Ip6Config;

/**
 * Turns configuration into a {@link NetConfig}: ConfigAdmin properties (PID {@code dev.slipway.net})
 * override framework properties ({@code slipway.mtu} and friends), which override the defaults.
 */
public final class NetworkSettings {
    private final Map<String, Object> config;
    private final Function<String, String> framework;

    public NetworkSettings(Map<String, Object> config, Function<String, String> framework) {
        this.config = config == null ? Map.of() : config;
        this.framework = framework;
    }

    /** The value of {@code key}: configuration, then framework property {@code slipway.<frameworkKey>}. */
    public String get(String key, String frameworkKey) {
        Object v = config.get(key);
        if (v != null) {
            if (v instanceof String[] array) {
                return String.join(",", array);
            }
            if (v instanceof java.util.Collection<?> c) {
                return String.join(",", c.stream().map(String::valueOf).toList());
            }
            return String.valueOf(v);
        }
        return frameworkKey == null ? null : framework.apply("slipway." + frameworkKey);
    }

    public NetConfig netConfig() {
        NetConfig.Builder b = NetConfig.builder();
        String subnet = get("subnet", "subnet");
        if (subnet != null) {
            String[] parts = subnet.split("/");
            if (parts.length != 2) {
                throw new IllegalArgumentException("subnet must look like 192.168.65.0/24, not " + subnet);
            }
            b.subnet(Ip4.parse(parts[0]), Integer.parseInt(parts[1].trim()));
        }
        ip(b::gateway, get("gateway", null));
        ip(b::hostAlias, get("hostAlias", "host-alias"));
        ip(b::firstGuest, get("firstGuest", null));
        integer(b::mtu, get("mtu", "mtu"));
        String domain = get("domain", "domain");
        if (domain != null) {
            b.domain(domain);
        }
        String search = get("search", "search");
        if (search != null) {
            b.searchDomains(split(search));
        }
        integer(b::leaseSeconds, get("leaseSeconds", null));
        String statics = get("staticLeases", null);
        if (statics != null) {
            Map<Long, Integer> leases = new HashMap<>();
            for (String entry : split(statics)) {
                String[] kv = entry.split("=");
                if (kv.length != 2) {
                    throw new IllegalArgumentException("a static lease looks like 02:00:00:00:00:01=192.168.65.10, not " + entry);
                }
                leases.put(Mac.parse(kv[0]), Ip4.parse(kv[1]));
            }
            b.staticLeases(leases);
        }
        String linkLocal = get("linkLocalAllowed", "link-local");
        if (linkLocal != null) {
            b.linkLocalAllowed(Boolean.parseBoolean(linkLocal.trim()));
        }
        String metadataRefused = get("metadataRefused", "metadata-refused");
        if (metadataRefused != null) {
            b.metadataRefused(CidrList.parse(metadataRefused));
        }
        integer(b::tcpConnectTimeoutMillis, get("tcpConnectTimeoutMillis", null));
        integer(b::tcpIdleTimeoutSeconds, get("tcpIdleTimeoutSeconds", null));
        integer(b::udpIdleTimeoutSeconds, get("udpIdleTimeoutSeconds", null));
        integer(b::maxTcpConnections, get("maxTcpConnections", null));
        integer(b::maxHalfOpenConnections, get("maxHalfOpenConnections", null));
        integer(b::maxUdpFlows, get("maxUdpFlows", null));
        integer(b::tcpBufferBytes, get("tcpBufferBytes", null));
        Ip6Config ipv6 = ipv6();
        String mtu = get("mtu", "mtu");
        if (get("ipv6", "ipv6") == null && mtu != null && Integer.parseInt(mtu.trim()) < Ip6Config.MIN_MTU) {
            ipv6 = ipv6.withEnabled(false); // IPv6 was not asked for, and this link is too small for it
        }
        b.ipv6(ipv6);
        return b.build();
    }

    /**
     * The IPv6 settings: {@code ipv6} (true/false, framework property {@code slipway.ipv6}),
     * {@code ipv6Prefix} (a /64), {@code ipv6Gateway} and {@code ipv6HostAlias} (addresses in it;
     * by default ::1 and ::254 of the prefix), {@code ipv6RouterIntervalSeconds}.
     */
    Ip6Config ipv6() {
        Ip6Config defaults = Ip6Config.defaults();
        String enabled = get("ipv6", "ipv6");
        String prefix = get("ipv6Prefix", "ipv6-prefix");
        String gateway = get("ipv6Gateway", null);
        String hostAlias = get("ipv6HostAlias", null);
        String interval = get("ipv6RouterIntervalSeconds", null);
        if (prefix == null) {
            prefix = Ip6Config.DEFAULT_PREFIX;
        } else if (gateway == null || hostAlias == null) {
            String base = prefix.contains("/") ? prefix.substring(0, prefix.indexOf('/')).trim() : prefix.trim();
            String stem = base.endsWith("::") ? base : base + (base.endsWith(":") ? ":" : "::");
            gateway = gateway == null ? stem + "1" : gateway;
            hostAlias = hostAlias == null ? stem + "254" : hostAlias;
        }
        return Ip6Config.of(enabled == null || Boolean.parseBoolean(enabled.trim()), prefix,
                gateway == null ? Ip6Config.DEFAULT_GATEWAY : gateway, hostAlias == null ? Ip6Config.DEFAULT_HOST_ALIAS : hostAlias,
                interval == null ? defaults.routerIntervalSeconds() : Integer.parseInt(interval.trim()));
    }

    private static List<String> split(String s) {
        List<String> r = new ArrayList<>();
        for (String p : s.split("[,\\s]+")) {
            if (!p.isBlank()) {
                r.add(p.trim());
            }
        }
        return r;
    }

    private static void ip(java.util.function.IntFunction<?> setter, String v) {
        if (v != null) {
            setter.apply(Ip4.parse(v));
        }
    }

    private static void integer(java.util.function.IntFunction<?> setter, String v) {
        if (v != null) {
            setter.apply(Integer.parseInt(v.trim()));
        }
    }
}
