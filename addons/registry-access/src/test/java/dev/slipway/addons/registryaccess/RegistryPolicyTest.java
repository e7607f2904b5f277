package dev.slipway.addons.registryaccess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.util.List;

import org.junit.jupiter.api.Test;

class RegistryPolicyTest {
    static final String POLICY = Signer.policy("2026-11-26", "\"*.docker.io\",\"docker.io\",\"ghcr.io\",\"denied.test\",\"allowed.test\"",
            "\"registry-1.docker.io\",\"allowed.test\"");

    @Test
    void signedPolicyVerifiesAndRefusesOnlyDeniedRegistries() throws Exception {
        Signer org = new Signer();
        RegistryPolicy p = RegistryPolicy.verify(org.sign(POLICY), RegistryPolicy.publicKey(org.publicKey()));
        assertNull(p.refusal("registry-1.docker.io"));
        assertNull(p.refusal("Allowed.Test."));
        assertNull(p.refusal("www.example.org"), "not a registry");
        assertTrue(p.refusal("ghcr.io").contains("not allowed"));
        assertTrue(p.refusal("auth.docker.io").contains("not allowed"));
        assertTrue(p.refusal("denied.test").contains("2026-11-26"));
        assertEquals(List.of("ghcr.io", "denied.test"), p.deniedZones(), "docker.io has an allowed name below it");
    }

    @Test
    void tamperedForeignOrMalformedPoliciesAreRefused() throws Exception {
        Signer org = new Signer();
        Signer mallory = new Signer();
        var key = RegistryPolicy.publicKey(org.publicKey());
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify(Signer.tamper(org.sign(POLICY)), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify(mallory.sign(POLICY), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify("{}".getBytes(), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify("[".getBytes(), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify(org.sign("{\"version\":2}"), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.verify(org.sign("not json"), key));
        assertThrows(GeneralSecurityException.class, () -> RegistryPolicy.publicKey("%%%"));
    }
}
