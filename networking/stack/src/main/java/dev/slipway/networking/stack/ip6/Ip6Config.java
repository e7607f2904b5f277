package dev.slipway.networking.stack.ip6;

/**
 * The guest network's IPv6 side: a /64 (SLAAC needs exactly 64 bits of interface identifier) and
 * the gateway's and the host alias's addresses in it, as the low 64 bits under {@link #prefix}.
 *
 * <p>The default prefix {@value #DEFAULT_PREFIX} is a unique local one (RFC 4193): never routed on
 * the Internet, so it cannot shadow a real destination; a host whose own networks use it picks
 * another with the {@code ipv6Prefix} setting.
 *
 * @param enabled              false: every IPv6 frame is dropped, as before IPv6 support
 * @param prefix               the high 64 bits of the /64
 * @param gateway              the gateway's interface identifier (low 64 bits)
 * @param hostAlias            the host alias's interface identifier; it stands for the host's {@code ::1}
 * @param routerIntervalSeconds how often an unsolicited router advertisement goes out
 */
public record Ip6Config(boolean enabled, long prefix, long gateway, long hostAlias, int routerIntervalSeconds) {

    public static final String DEFAULT_PREFIX = "fd00:5e7a:1e55::/64";
    public static final String DEFAULT_GATEWAY = "fd00:5e7a:1e55::1";
    public static final String DEFAULT_HOST_ALIAS = "fd00:5e7a:1e55::254";
    /** RFC 8200's minimum link MTU: the network's MTU may not be lower while IPv6 is on. */
    public static final int MIN_MTU = 1280;

    public Ip6Config {
        if (Ip6.isMulticast(prefix) || Ip6.isLinkLocal(prefix) || prefix == 0) {
            throw new IllegalArgumentException("the IPv6 prefix must be a unicast /64 such as " + DEFAULT_PREFIX
                    + ", not " + Ip6.toString(prefix, 0) + "/64");
        }
        if (gateway == 0 || hostAlias == 0 || gateway == hostAlias) {
            throw new IllegalArgumentException("the IPv6 gateway and host alias must be two different host addresses in "
                    + Ip6.toString(prefix, 0) + "/64");
        }
        if (routerIntervalSeconds < 4 || routerIntervalSeconds > 1800) {
            throw new IllegalArgumentException("the router advertisement interval must be 4..1800 seconds (RFC 4861), not "
                    + routerIntervalSeconds);
        }
    }

    public static Ip6Config defaults() {
        return of(true, DEFAULT_PREFIX, DEFAULT_GATEWAY, DEFAULT_HOST_ALIAS, 120);
    }

    /**
     * From text: a {@code prefix/64} and two addresses inside it.
     *
     * @throws IllegalArgumentException naming the setting that is wrong
     */
    public static Ip6Config of(boolean enabled, String prefix, String gateway, String hostAlias, int intervalSeconds) {
        int slash = prefix.indexOf('/');
        if (slash < 0 || !prefix.substring(slash + 1).trim().equals("64")) {
            throw new IllegalArgumentException("the IPv6 prefix must be a /64 (SLAAC needs 64-bit interface identifiers), like "
                    + DEFAULT_PREFIX + ", not " + prefix);
        }
        long[] p = Ip6.parse(prefix.substring(0, slash));
        if (p[1] != 0) {
            throw new IllegalArgumentException("the IPv6 prefix has host bits set: " + prefix);
        }
        long[] g = Ip6.parse(gateway);
        long[] h = Ip6.parse(hostAlias);
        for (long[] a : new long[][] {g, h}) {
            if (a[0] != p[0]) {
                throw new IllegalArgumentException(Ip6.toString(a[0], a[1]) + " is outside the IPv6 prefix " + prefix);
            }
        }
        return new Ip6Config(enabled, p[0], g[1], h[1], intervalSeconds);
    }

    public Ip6Config withEnabled(boolean on) {
        return new Ip6Config(on, prefix, gateway, hostAlias, routerIntervalSeconds);
    }

    public boolean inPrefix(long hi) {
        return hi == prefix;
    }

    public String prefixText() {
        return Ip6.toString(prefix, 0) + "/64";
    }

    public String gatewayText() {
        return Ip6.toString(prefix, gateway);
    }

    public String hostAliasText() {
        return Ip6.toString(prefix, hostAlias);
    }
}
