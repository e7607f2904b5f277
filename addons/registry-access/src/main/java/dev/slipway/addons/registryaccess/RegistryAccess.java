package dev.slipway.addons.registryaccess;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.StatusContributor;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.dns.api.DnsRecordSource;
import dev.slipway.networking.api.ConnectionPolicy;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * Registry Access Management, as an add-on: while this bundle runs and a valid signed policy is
 * known, a {@link ConnectionPolicy} (consulted by the transparent proxy for TLS SNI, HTTP Host and
 * CONNECT names) and a {@link DnsRecordSource} (denied registry domains answer NXDOMAIN) are
 * registered; stopping or removing the bundle withdraws both.
 *
 * <p>Framework properties: {@code slipway.registry-policy-key} (the organisation's Ed25519 public
 * key, base64 X.509; required), {@code slipway.registry-policy-url} (where the signed policy is
 * published), {@code slipway.registry-policy-refresh-minutes} (default 60).
 */
@Component(service = {ControlCommand.class, StatusContributor.class}, immediate = true,
        property = {ControlCommand.NAME + "=registry-access", ControlCommand.SUMMARY + "=the Registry Access policy in force",
                StatusContributor.KEY + "=registryAccess"})
public final class RegistryAccess implements ControlCommand, StatusContributor {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryAccess.class);

    private final BundleContext context;
    private final PolicySync sync;
    private final String configProblem;
    private final ScheduledExecutorService worker;
    private final OkHttpClient http;
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong generation = new AtomicLong();
    private volatile HelperClient helper;
    private ServiceRegistration<ConnectionPolicy> policyRegistration;
    private ServiceRegistration<DnsRecordSource> dnsRegistration;
    private volatile RegistryPolicy enforced;

    @Activate
    public RegistryAccess(BundleContext context) {
        this.context = context;
        String key = context.getProperty("slipway.registry-policy-key");
        String url = context.getProperty("slipway.registry-policy-url");
        long minutes = Long.parseLong(valueOr(context.getProperty("slipway.registry-policy-refresh-minutes"), "60"));
        http = PolicySync.client();
        PolicySync s = null;
        String problem = "";
        try {
            if (key == null || key.isBlank()) {
                throw new GeneralSecurityException("no policy key is configured (slipway.registry-policy-key)");
            }
            HttpUrl parsed = url == null || url.isBlank() ? null : HttpUrl.parse(url);
            if (url != null && !url.isBlank() && parsed == null) {
                throw new GeneralSecurityException("slipway.registry-policy-url is not an http(s) URL: " + url);
            }
            s = new PolicySync(RegistryPolicy.publicKey(key), parsed, http, () -> helper, this::enforce);
        } catch (GeneralSecurityException e) {
            problem = e.getMessage() + "; Registry Access is not enforced";
            LOG.warn(problem);
        }
        sync = s;
        configProblem = problem;
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slipway-registry-access");
            t.setDaemon(true);
            return t;
        });
        if (sync != null) {
            worker.execute(sync::loadStored);
            worker.scheduleWithFixedDelay(sync::fetch, 0, Math.max(1, minutes), TimeUnit.MINUTES);
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindHelper(HelperClient client) {
        helper = client;
    }

    void unbindHelper(HelperClient client) {
        if (helper == client) {
            helper = null;
        }
    }

    @Deactivate
    synchronized void deactivate() {
        worker.shutdownNow();
        withdraw();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }

    private synchronized void enforce(RegistryPolicy policy) {
        if (worker.isShutdown()) {
            return;
        }
        enforced = policy;
        Dictionary<String, Object> dnsProps = new Hashtable<>(Map.of(DnsRecordSource.GENERATION, generation.incrementAndGet()));
        if (policyRegistration == null) {
            policyRegistration = context.registerService(ConnectionPolicy.class, this::refusal, null);
            dnsRegistration = context.registerService(DnsRecordSource.class, new DeniedRegistryZones(() -> enforced), dnsProps);
        } else {
            dnsRegistration.setProperties(dnsProps);
        }
    }

    private void withdraw() {
        if (policyRegistration != null) {
            safeUnregister(policyRegistration);
            safeUnregister(dnsRegistration);
            policyRegistration = null;
            dnsRegistration = null;
        }
        enforced = null;
    }

    private static void safeUnregister(ServiceRegistration<?> r) {
        try {
            r.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
    }

    private String refusal(String name, InetAddress address, int port, ConnectionPolicy.Source source) {
        RegistryPolicy p = enforced;
        String reason = p == null ? null : p.refusal(name);
        if (reason != null) {
            refusals.incrementAndGet();
        }
        return reason;
    }

    @Override
    public CommandResult execute(List<String> args) {
        StringBuilder b = new StringBuilder();
        status().forEach((k, v) -> b.append(String.format("%-12s %s%n", k + ":", v)));
        return CommandResult.ok(b.toString());
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        RegistryPolicy p = enforced;
        m.put("enforced", p != null);
        m.put("source", sync == null ? "none" : sync.source());
        m.put("issued", p == null ? "" : p.issued());
        m.put("registries", p == null ? List.of() : p.registries());
        m.put("allowed", p == null ? List.of() : p.allow());
        m.put("refusals", refusals.get());
        m.put("problem", !configProblem.isEmpty() ? configProblem : sync == null ? "" : sync.problem());
        return m;
    }

    private static String valueOr(String v, String fallback) {
        return v == null || v.isBlank() ? fallback : v;
    }
}
