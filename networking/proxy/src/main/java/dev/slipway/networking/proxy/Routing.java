package dev.slipway.networking.proxy;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.api.ConnectionPolicy;
import okhttp3.OkHttpClient;

/**
 * What the transparent proxy does now, as one snapshot replaced whenever the proxy settings, the
 * PAC script or the set of connection policies change. With a PAC script, its answer decides per
 * destination; when it fails, the manual settings apply.
 */
final class Routing {
    private static final Logger LOG = LoggerFactory.getLogger(Routing.class);
    private static final int MAX_CACHED = 1024;

    private final ProxyConfig config;
    private final NoProxy noProxy;
    private final HttpClients httpClients;
    private final List<ConnectionPolicy> policies;
    private final PacScript pac;
    private final Map<ProxyServer, OkHttpClient> clients = new ConcurrentHashMap<>();
    private final Map<String, ProxyServer> pacAnswers = new ConcurrentHashMap<>();
    private static final ProxyServer DIRECT = new ProxyServer("direct", "direct", 1, null, null);

    Routing(ProxyConfig config, HttpClients httpClients, List<ConnectionPolicy> policies, PacScript pac) {
        this.config = config;
        this.noProxy = new NoProxy(config.noProxy());
        this.httpClients = httpClients;
        this.policies = List.copyOf(policies);
        this.pac = pac;
    }

    ProxyConfig config() {
        return config;
    }

    NoProxy noProxy() {
        return noProxy;
    }

    List<ConnectionPolicy> policies() {
        return policies;
    }

    PacScript pac() {
        return pac;
    }

    /** The manual proxy for plain HTTP, or null. */
    ProxyServer httpProxy() {
        return usable(config.forHttp());
    }

    /** The manual proxy for CONNECT tunnels, or null. */
    ProxyServer tlsProxy() {
        return usable(config.forHttps());
    }

    /** The proxy for a plain HTTP request to {@code url}, or null for a direct connection. */
    ProxyServer httpProxy(String url, String host, int ip) {
        return pac != null ? fromPac(url, host, httpProxy()) : noProxy.matches(host, ip) ? null : httpProxy();
    }

    /** The proxy for a TLS connection to {@code host:port}, or null for a direct connection. */
    ProxyServer tlsProxy(String host, int ip, int port) {
        return pac != null ? fromPac("https://" + host + (port == 443 ? "" : ":" + port) + "/", host, tlsProxy())
                : noProxy.matches(host, ip) ? null : tlsProxy();
    }

    private ProxyServer fromPac(String url, String host, ProxyServer fallback) {
        ProxyServer cached = pacAnswers.get(url);
        if (cached != null) {
            return cached == DIRECT ? null : cached;
        }
        ProxyServer chosen;
        try {
            List<PacScript.Choice> choices = PacScript.choices(pac.find(url, host));
            chosen = choices.isEmpty() ? fallback : choices.get(0).proxy();
        } catch (IllegalStateException e) {
            LOG.warn("{}; using the manual settings", e.getMessage());
            return fallback;
        }
        if (pacAnswers.size() >= MAX_CACHED) {
            pacAnswers.clear();
        }
        pacAnswers.put(url, chosen == null ? DIRECT : chosen);
        return chosen;
    }

    /** The OkHttp client that sends plain HTTP through {@code proxy}. */
    OkHttpClient client(ProxyServer proxy) {
        return clients.computeIfAbsent(proxy, p -> httpClients.base().newBuilder()
                .proxy(new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(p.host(), p.port()))).build());
    }

    boolean interceptHttp() {
        return pac != null || httpProxy() != null || !policies.isEmpty();
    }

    boolean interceptTls() {
        return pac != null || tlsProxy() != null || !policies.isEmpty();
    }

    /** Whether destinations excluded by address may skip interception (their names are not needed). */
    boolean directByAddress() {
        return pac == null && policies.isEmpty();
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
