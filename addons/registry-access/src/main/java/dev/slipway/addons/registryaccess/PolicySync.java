package dev.slipway.addons.registryaccess;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * Keeps the policy in force: the copy the helper stored (so it applies offline), then the one at
 * the configured URL, each applied only when its signature verifies with the configured key. A
 * valid fetched policy that differs from the stored one is stored through the helper. Anything
 * unsigned, forged or altered changes nothing and is reported.
 */
final class PolicySync {
    private static final Logger LOG = LoggerFactory.getLogger(PolicySync.class);

    private final PublicKey key;
    private final HttpUrl url;
    private final OkHttpClient http;
    private final Supplier<HelperClient> helper;
    private final Consumer<RegistryPolicy> enforce;
    private volatile RegistryPolicy policy;
    private volatile String source = "none";
    private volatile String problem = "";
    private volatile byte[] stored;

    PolicySync(PublicKey key, HttpUrl url, OkHttpClient http, Supplier<HelperClient> helper, Consumer<RegistryPolicy> enforce) {
        this.key = key;
        this.url = url;
        this.http = http;
        this.helper = helper;
        this.enforce = enforce;
    }

    RegistryPolicy policy() {
        return policy;
    }

    String source() {
        return source;
    }

    String problem() {
        return problem;
    }

    /** Applies the helper's stored copy; reports a copy whose signature no longer verifies. */
    void loadStored() {
        HelperClient client = helper.get();
        if (client == null) {
            report("the helper is not available; no stored policy was read");
            return;
        }
        try {
            Map<String, Object> reply = client.call(HelperSchema.POLICY_READ,
                    Map.of(HelperSchema.PARAM_POLICY, HelperSchema.POLICY_REGISTRY_ACCESS));
            if (!Boolean.TRUE.equals(reply.get("present"))) {
                return;
            }
            byte[] document = Base64.getDecoder().decode((String) reply.get(HelperSchema.PARAM_DOCUMENT));
            stored = document;
            apply(RegistryPolicy.verify(document, key), "stored by the helper");
        } catch (GeneralSecurityException e) {
            report("the stored policy was tampered with (" + e.getMessage() + "); it is not used");
        } catch (HelperException | RuntimeException e) {
            report("cannot read the stored policy: " + e.getMessage());
        }
    }

    /** Fetches the policy from the URL; applies and stores it when it verifies. */
    void fetch() {
        if (url == null) {
            return;
        }
        byte[] document;
        try (Response response = http.newCall(new Request.Builder().url(url).build()).execute()) {
            if (!response.isSuccessful()) {
                report("fetching " + url + " gave HTTP " + response.code() + "; the policy in force stays");
                return;
            }
            BufferedSource body = response.body().source();
            if (body.request(HelperSchema.MAX_POLICY_BYTES + 1)) {
                report("the policy at " + url + " is larger than " + HelperSchema.MAX_POLICY_BYTES + " bytes; refused");
                return;
            }
            document = body.readByteArray();
        } catch (IOException e) {
            report("cannot fetch " + url + ": " + e.getMessage() + "; the policy in force stays");
            return;
        }
        RegistryPolicy fetched;
        try {
            fetched = RegistryPolicy.verify(document, key);
        } catch (GeneralSecurityException e) {
            report("the policy at " + url + " is refused: " + e.getMessage() + "; nothing changes");
            return;
        }
        apply(fetched, url.toString());
        if (!Arrays.equals(document, stored)) {
            HelperClient client = helper.get();
            try {
                if (client == null) {
                    throw new HelperException(dev.slipway.api.helper.HelperErrors.UNAVAILABLE, "the helper is not available");
                }
                client.call(HelperSchema.POLICY_STORE, Map.of(HelperSchema.PARAM_POLICY, HelperSchema.POLICY_REGISTRY_ACCESS,
                        HelperSchema.PARAM_DOCUMENT, Base64.getEncoder().encodeToString(document)));
                stored = document;
            } catch (HelperException e) {
                report("the policy applies but could not be stored for offline use: " + e.getMessage());
            }
        }
    }

    private void apply(RegistryPolicy next, String from) {
        policy = next;
        source = from;
        problem = "";
        enforce.accept(next);
        LOG.info("Registry Access policy from {} (issued {}): registries {}, allowed {}", from, next.issued(), next.registries(), next.allow());
    }

    private void report(String message) {
        problem = message;
        LOG.warn("Registry Access: {}", message);
    }

    static OkHttpClient client() {
        return new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10)).readTimeout(Duration.ofSeconds(20))
                .callTimeout(Duration.ofSeconds(30)).build();
    }
}
