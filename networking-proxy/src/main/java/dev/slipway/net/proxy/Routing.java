package dev.slipway.net.proxy;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.List;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.net.api.ConnectionPolicy;
import okhttp3.OkHttpClient;

/**
 * What the transparent proxy does now, as one immutable snapshot replaced whenever the proxy
 * settings or the set of connection policies change.
 *
 * @param http the client for plain HTTP through the HTTP proxy; null when there is none
 */
record Routing(ProxyConfig config, NoProxy noProxy, OkHttpClient http, List<ConnectionPolicy> policies) {

    static Routing of(ProxyConfig config, OkHttpClient base, List<ConnectionPolicy> policies) {
        ProxyServer p = usable(config.forHttp());
        OkHttpClient http = p == null ? null
                : base.newBuilder().proxy(new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(p.host(), p.port()))).build();
        return new Routing(config, new NoProxy(config.noProxy()), http, List.copyOf(policies));
    }

    /** The proxy for plain HTTP, or null to connect directly. */
    ProxyServer httpProxy() {
        return usable(config.forHttp());
    }

    /** The proxy for CONNECT tunnels, or null to connect directly. */
    ProxyServer tlsProxy() {
        return usable(config.forHttps());
    }

    boolean interceptHttp() {
        return httpProxy() != null || !policies.isEmpty();
    }

    boolean interceptTls() {
        return tlsProxy() != null || !policies.isEmpty();
    }

    /** Only HTTP proxies carry guest traffic; a SOCKS-only setting leaves connections direct. */
    private static ProxyServer usable(ProxyServer p) {
        return p != null && p.scheme().equals("http") ? p : null;
    }

    /** The first policy's reason to refuse, or null. */
    String refusal(String name, java.net.InetAddress address, int port, ConnectionPolicy.Source source) {
        for (ConnectionPolicy p : policies) {
            String reason;
            try {
                reason = p.refusal(name, address, port, source);
            } catch (RuntimeException e) {
                reason = "connection policy failed: " + e.getMessage();
            }
            if (reason != null) {
                return reason;
            }
        }
        return null;
    }
}
