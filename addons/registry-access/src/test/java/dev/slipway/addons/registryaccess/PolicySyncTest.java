package dev.slipway.addons.registryaccess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okio.Buffer;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PolicySyncTest {
    MockWebServer server;
    Signer org;
    /** The helper's stored document, as its policy.read would return it. */
    byte[] stored;
    final List<RegistryPolicy> enforced = new ArrayList<>();

    /** A helper that stores what it is given (the signature check at the helper is PolicyStoreOperationsTest's subject). */
    final HelperClient helper = new HelperClient() {
        @Override
        public Path socket() {
            return Path.of("/nonexistent");
        }

        @Override
        public Map<String, Object> call(String operation, Map<String, String> params) throws HelperException {
            if (operation.equals(HelperSchema.POLICY_STORE)) {
                stored = Base64.getDecoder().decode(params.get(HelperSchema.PARAM_DOCUMENT));
                return Map.of("changed", true);
            }
            if (operation.equals(HelperSchema.POLICY_READ)) {
                Map<String, Object> m = new HashMap<>();
                m.put("present", stored != null);
                if (stored != null) {
                    m.put(HelperSchema.PARAM_DOCUMENT, Base64.getEncoder().encodeToString(stored));
                }
                return m;
            }
            throw new HelperException(HelperErrors.UNKNOWN_OPERATION, operation);
        }
    };

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start();
        org = new Signer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    PolicySync sync() throws Exception {
        return new PolicySync(RegistryPolicy.publicKey(org.publicKey()), server.url("/policy.json"), PolicySync.client(),
                () -> helper, enforced::add);
    }

    static MockResponse body(byte[] b) {
        return new MockResponse.Builder().code(200).body(new Buffer().write(b)).build();
    }

    @Test
    void signedPolicyFromTheUrlIsEnforcedAndStoredThroughTheHelper() throws Exception {
        byte[] doc = org.sign(RegistryPolicyTest.POLICY);
        server.enqueue(body(doc));
        PolicySync s = sync();
        s.fetch();
        assertEquals(1, enforced.size());
        assertTrue(enforced.get(0).refusal("denied.test") != null);
        assertArrayEquals(doc, stored);
        assertEquals("", s.problem());
    }

    @Test
    void tamperedOrForeignPoliciesFromTheUrlChangeNothing() throws Exception {
        byte[] good = org.sign(RegistryPolicyTest.POLICY);
        stored = good;
        PolicySync s = sync();
        s.loadStored();
        RegistryPolicy before = s.policy();
        server.enqueue(body(Signer.tamper(good)));
        s.fetch();
        assertTrue(s.problem().contains("refused"), s.problem());
        server.enqueue(body(new Signer().sign(Signer.policy("x", "", ""))));
        s.fetch();
        assertSame(before, s.policy());
        assertArrayEquals(good, stored, "the stored copy was not replaced");
        assertEquals(1, enforced.size());
    }

    @Test
    void storedPolicyAppliesOfflineAndATamperedStoredCopyIsReported() throws Exception {
        stored = org.sign(RegistryPolicyTest.POLICY);
        server.enqueue(new MockResponse.Builder().code(503).build());
        PolicySync s = sync();
        s.loadStored();
        s.fetch();
        assertEquals("stored by the helper", s.source());
        assertTrue(s.problem().contains("503"), s.problem());
        assertTrue(s.policy().refusal("ghcr.io") != null);

        stored = Signer.tamper(stored);
        PolicySync fresh = sync();
        fresh.loadStored();
        assertNull(fresh.policy());
        assertTrue(fresh.problem().contains("tampered"), fresh.problem());
    }

    @Test
    void oversizedPolicyIsRefused() throws Exception {
        server.enqueue(body(new byte[HelperSchema.MAX_POLICY_BYTES + 10]));
        PolicySync s = sync();
        s.fetch();
        assertNull(s.policy());
        assertTrue(s.problem().contains("larger"), s.problem());
    }
}
