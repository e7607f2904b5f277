package dev.slipway.networking.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.StatusContributor;
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxySettings;
import dev.slipway.networking.api.ConnectionPolicy;
import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.api.GuestNetwork;
import dev.slipway.networking.api.OutboundRouter;
import okhttp3.OkHttpClient;

/**
 * The guest's web traffic through the user's proxy: an {@link OutboundRouter} for the stack, the
 * interceptor behind it, {@code slipway proxy status} and the {@code proxy} status section.
 *
 * <p>Framework properties: {@code slipway.proxy-http-ports} (default 80),
 * {@code slipway.proxy-https-ports} (default 443), {@code slipway.proxy-port} (the explicit proxy
 * on the gateway, default 3128, 0 for none).
 */
@Component(service = {OutboundRouter.class, ControlCommand.class, StatusContributor.class, ProxySettings.Listener.class},
        property = {ControlCommand.NAME + "=proxy", ControlCommand.SUMMARY + "=the proxy settings in force (proxy status)",
                StatusContributor.KEY + "=proxy"})
public final class TransparentProxy implements OutboundRouter, ControlCommand, StatusContributor, ProxySettings.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(TransparentProxy.class);

    private final ProxyRouter router;
    private final Interceptor interceptor;
    private final HttpClients clients;
    private final List<ConnectionPolicy> policies = new CopyOnWriteArrayList<>();
    private final GuestNetwork network;
    private final int explicitPort;
    private final int[] httpPorts;
    private final int[] tlsPorts;
    private volatile ProxySettings settings;
    private static final long PAC_BUDGET_MILLIS = 500;
    private static final long MAX_PAC_BYTES = 1 << 20;
    private final java.util.concurrent.ExecutorService pacLoader = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "slipway-pac-loader");
        t.setDaemon(true);
        return t;
    });
    private volatile ProxyConfig current = ProxyConfig.none("none");
    private volatile PacScript pac;
    private volatile String pacState = "";

    @Activate
    public TransparentProxy(BundleContext context, @Reference GuestNetwork network) throws IOException {
        this(network, ports(context.getProperty("slipway.proxy-http-ports"), 80),
                ports(context.getProperty("slipway.proxy-https-ports"), 443),
                port(context.getProperty("slipway.proxy-port"), 3128), Interceptor.Limits.defaults());
    }

    TransparentProxy(GuestNetwork network, int[] httpPorts, int[] tlsPorts, int explicitPort, Interceptor.Limits limits)
            throws IOException {
        this.network = network;
        this.httpPorts = httpPorts;
        this.tlsPorts = tlsPorts;
        this.explicitPort = explicitPort;
        MetadataFilter metadata = new MetadataFilter(network.refusedDestinations(), okhttp3.Dns.SYSTEM);
        clients = new HttpClients(limits.connect(), metadata);
        router = new ProxyRouter(toInt(network.gateway()), explicitPort, httpPorts, tlsPorts,
                new Routing(ProxyConfig.none("none"), clients, List.of(), null));
        interceptor = new Interceptor(router, network.hostAlias(), metadata, limits, clients);
    }

    @Deactivate
    void deactivate() {
        pacLoader.shutdownNow();
        interceptor.close();
        clients.close();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindSettings(ProxySettings s) {
        settings = s;
        rebuild();
    }

    void unbindSettings(ProxySettings s) {
        if (settings == s) {
            settings = null;
            rebuild();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPolicy(ConnectionPolicy policy) {
        policies.add(policy);
        rebuild();
    }

    void removePolicy(ConnectionPolicy policy) {
        policies.remove(policy);
        rebuild();
    }

    @Override
    public void proxySettingsChanged(ProxyConfig config) {
        rebuild();
    }

    /** Uses {@code config} from now on (tests, and every settings change); a PAC script is fetched in the background. */
    void use(ProxyConfig config) {
        current = config;
        PacScript script = pac;
        if (config.pacUrl() == null) {
            script = null;
        } else if (script == null || !script.url().equals(config.pacUrl())) {
            script = null;
            String url = config.pacUrl();
            pacState = "loading " + url;
            pacLoader.execute(() -> loadPac(url));
        }
        install(config, script);
    }

    private void install(ProxyConfig config, PacScript script) {
        Routing next = new Routing(config, clients, policies, script);
        Routing previous = router.routing();
        router.routing(next);
        if (previous == null || !previous.config().equals(config) || previous.pac() != script) {
            LOG.info("guest proxy from {}: http {}, https {}, no proxy {}{}", config.source(), next.httpProxy(), next.tlsProxy(),
                    config.noProxy(), script == null ? "" : ", PAC " + script.url());
        }
    }

    private void loadPac(String url) {
        PacScript script;
        try {
            script = PacScript.compile(url, fetch(url), PacScript::resolve, PacScript.localAddress(), PAC_BUDGET_MILLIS);
        } catch (IOException | IllegalArgumentException e) {
            pacState = "not used: " + e.getMessage() + " (the manual settings apply)";
            LOG.warn("PAC script {}: {}", url, e.getMessage());
            return;
        }
        pac = script;
        pacState = "in use: " + url;
        ProxyConfig config = current;
        if (url.equals(config.pacUrl())) {
            install(config, script);
        }
    }

    private String fetch(String url) throws IOException {
        okhttp3.HttpUrl parsed = okhttp3.HttpUrl.parse(url);
        if (parsed == null) {
            throw new IOException("not an http(s) URL: " + url);
        }
        OkHttpClient direct = clients.base().newBuilder().proxy(java.net.Proxy.NO_PROXY).callTimeout(Duration.ofSeconds(20)).build();
        try (okhttp3.Response response = direct.newCall(new okhttp3.Request.Builder().url(parsed).build()).execute()) {
            if (!response.isSuccessful()) {
                throw new IOException("fetching it gave HTTP " + response.code());
            }
            okio.BufferedSource source = response.body().source();
            if (source.request(MAX_PAC_BYTES + 1)) {
                throw new IOException("it is larger than " + MAX_PAC_BYTES + " bytes");
            }
            return source.readUtf8();
        }
    }

    private void rebuild() {
        if (router == null) {
            return; // references bound during construction: the constructor sets the first routing
        }
        ProxySettings s = settings;
        use(s == null ? ProxyConfig.none("no proxy settings service") : s.current());
    }

    long interceptorCount() {
        return interceptor.intercepted.get();
    }

    @Override
    public java.net.InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
        return router.intercepts(dstIp, dstPort) ? INTERCEPT : null;
    }

    @Override
    public void intercept(GuestConnection connection) {
        interceptor.accept(connection);
    }

    @Override
    public CommandResult execute(List<String> args) {
        if (args.isEmpty() || args.get(0).equals("status")) {
            return CommandResult.ok(describe());
        }
        return CommandResult.usage("usage: slipway proxy status");
    }

    String describe() {
        Routing r = router.routing();
        ProxyConfig c = r.config();
        StringBuilder b = new StringBuilder();
        b.append("source:           ").append(c.source()).append('\n');
        b.append("http proxy:       ").append(orNone(r.httpProxy())).append('\n');
        b.append("https proxy:      ").append(orNone(r.tlsProxy())).append('\n');
        if (c.all() != null && !"http".equals(c.all().scheme())) {
            b.append("not used:         ").append(c.all()).append(" (only HTTP proxies carry guest traffic)\n");
        }
        b.append("no proxy:         ").append(c.noProxy().isEmpty() ? "(none)" : String.join(", ", c.noProxy())).append('\n');
        if (c.pacUrl() != null) {
            b.append("pac:              ").append(pacState).append('\n');
        }
        if (c.autoDiscovery()) {
            b.append("not used:         automatic proxy discovery (WPAD) is not supported; set a PAC URL instead\n");
        }
        b.append("transparent:      HTTP ports ").append(join(httpPorts)).append(", HTTPS ports ").append(join(tlsPorts))
                .append(r.interceptHttp() || r.interceptTls() ? "" : " (inactive: no proxy, no policy)").append('\n');
        b.append("explicit proxy:   ").append(explicitPort > 0 ? network.gateway().getHostAddress() + ":" + explicitPort : "off").append('\n');
        b.append("policies:         ").append(r.policies().size()).append('\n');
        Map<String, Object> s = counters();
        b.append("connections:      ").append(s).append('\n');
        if (!interceptor.lastFailure.isEmpty()) {
            b.append("last failure:     ").append(interceptor.lastFailure).append('\n');
        }
        return b.toString();
    }

    @Override
    public Object status() {
        Routing r = router.routing();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", r.config().source());
        m.put("http", orNone(r.httpProxy()));
        m.put("https", orNone(r.tlsProxy()));
        m.put("noProxy", r.config().noProxy());
        m.put("pacUrl", r.config().pacUrl());
        m.put("pac", pacState);
        m.put("explicitPort", explicitPort);
        m.put("policies", r.policies().size());
        m.putAll(counters());
        m.put("lastFailure", interceptor.lastFailure);
        return m;
    }

    private Map<String, Object> counters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intercepted", interceptor.intercepted.get());
        m.put("active", interceptor.active.get());
        m.put("viaProxy", interceptor.viaProxy.get());
        m.put("direct", interceptor.direct.get());
        m.put("refusedByPolicy", interceptor.refusedByPolicy.get());
        m.put("refusedMetadata", interceptor.refusedMetadata.get());
        m.put("failures", interceptor.failures.get());
        m.put("rejectedBusy", interceptor.rejectedBusy.get());
        return m;
    }

    private static String orNone(Object o) {
        return o == null ? "(none)" : o.toString();
    }

    private static String join(int[] ports) {
        List<String> s = new ArrayList<>();
        for (int p : ports) {
            s.add(Integer.toString(p));
        }
        return String.join(",", s);
    }

    static int[] ports(String text, int fallback) {
        if (text == null || text.isBlank()) {
            return new int[] {fallback};
        }
        String[] parts = text.split("[,\\s]+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = port(parts[i], -1);
            if (out[i] <= 0) {
                throw new IllegalArgumentException("not a port: " + parts[i]);
            }
        }
        return out;
    }

    static int port(String text, int fallback) {
        if (text == null || text.isBlank()) {
            return fallback;
        }
        int p = Integer.parseInt(text.strip());
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("not a port: " + text);
        }
        return p;
    }

    private static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        return (b[0] & 255) << 24 | (b[1] & 255) << 16 | (b[2] & 255) << 8 | b[3] & 255;
    }
}
