package dev.slipway.api.proxy;

import java.util.List;
import java.util.Objects;

/**
 * The proxy settings in force.
 *
 * @param http          the proxy for plain HTTP, or null
 * @param https         the proxy for HTTPS (CONNECT tunnels), or null
 * @param all           the proxy for every protocol without its own (ALL_PROXY, socks=), or null
 * @param noProxy       the destinations reached directly, as written: host names, {@code .suffix} or
 *                      {@code *.suffix} domains, IP addresses, CIDR blocks, {@code <local>} (names
 *                      without a dot), {@code *} (everything)
 * @param pacUrl        the URL of a proxy auto-config script, or null
 * @param autoDiscovery whether the system asks for automatic proxy discovery (WPAD)
 * @param source        where the settings came from, for people: e.g. {@code environment},
 *                      {@code scutil --proxy}, {@code HKCU Internet Settings}
 */
public record ProxyConfig(ProxyServer http, ProxyServer https, ProxyServer all, List<String> noProxy,
                          String pacUrl, boolean autoDiscovery, String source) {

    public ProxyConfig {
        noProxy = List.copyOf(noProxy);
        Objects.requireNonNull(source, "source");
    }

    /** No proxy at all. */
    public static ProxyConfig none(String source) {
        return new ProxyConfig(null, null, null, List.of(), null, false, source);
    }

    /** The proxy for plain HTTP requests, or null for direct connections. */
    public ProxyServer forHttp() {
        return http != null ? http : all;
    }

    /** The proxy for TLS connections (CONNECT), or null for direct connections. */
    public ProxyServer forHttps() {
        return https != null ? https : all;
    }

    /** Whether any proxy, script or discovery is configured. */
    public boolean isEmpty() {
        return http == null && https == null && all == null && pacUrl == null && !autoDiscovery;
    }
}
