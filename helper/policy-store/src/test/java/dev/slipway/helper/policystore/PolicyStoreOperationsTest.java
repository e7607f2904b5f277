package dev.slipway.helper.policystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;

class PolicyStoreOperationsTest {
    @TempDir
    Path tmp;

    static KeyPair keys() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    static byte[] envelope(KeyPair k, String payload) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(k.getPrivate());
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        s.update(p);
        String json = "{\"payload\":\"" + Base64.getEncoder().encodeToString(p) + "\",\"signature\":\""
                + Base64.getEncoder().encodeToString(s.sign()) + "\"}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    static HelperCall call(String op, byte[] document) {
        Map<String, Object> params = document == null ? Map.of(HelperSchema.PARAM_POLICY, HelperSchema.POLICY_REGISTRY_ACCESS)
                : Map.of(HelperSchema.PARAM_POLICY, HelperSchema.POLICY_REGISTRY_ACCESS,
                        HelperSchema.PARAM_DOCUMENT, Base64.getEncoder().encodeToString(document));
        return new HelperCall(1, op, params, new HelperCall.Caller("dev", "slipway-users"));
    }

    @Test
    void signedPolicyIsStoredReadableByAllWritableByOwnerOnlyAndReadBack() throws Exception {
        KeyPair k = keys();
        var ops = new PolicyStoreOperations(tmp.resolve("policy"), Optional.of(Base64.getEncoder().encodeToString(k.getPublic().getEncoded())));
        assertEquals(false, ops.handle(call(HelperSchema.POLICY_READ, null)).get("present"));
        byte[] doc = envelope(k, "{\"allow\":[\"registry.corp.example\"]}");
        assertEquals(true, ops.handle(call(HelperSchema.POLICY_STORE, doc)).get("changed"));
        assertEquals(false, ops.handle(call(HelperSchema.POLICY_STORE, doc)).get("changed"));
        Path file = tmp.resolve("policy/registry-access.json");
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        Map<String, Object> read = ops.handle(call(HelperSchema.POLICY_READ, null));
        assertArrayEquals(doc, Base64.getDecoder().decode((String) read.get(HelperSchema.PARAM_DOCUMENT)));
    }

    @Test
    void policySignedWithAnotherKeyOrAlteredIsRefusedAndTheStoredOneStays() throws Exception {
        KeyPair org = keys();
        KeyPair user = keys();
        var ops = new PolicyStoreOperations(tmp, Optional.of(Base64.getEncoder().encodeToString(org.getPublic().getEncoded())));
        byte[] good = envelope(org, "{\"allow\":[\"a\"]}");
        ops.handle(call(HelperSchema.POLICY_STORE, good));
        HelperException forged = assertThrows(HelperException.class,
                () -> ops.handle(call(HelperSchema.POLICY_STORE, envelope(user, "{\"allow\":[\"*\"]}"))));
        assertEquals(HelperErrors.INVALID, forged.code());
        String altered = new String(good, StandardCharsets.UTF_8).replace("\"payload\":\"", "\"payload\":\"eyJ");
        assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, altered.getBytes(StandardCharsets.UTF_8))));
        assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, "not json".getBytes())));
        assertArrayEquals(good, Files.readAllBytes(tmp.resolve("registry-access.json")));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary files are left behind");
        }
    }

    @Test
    void anOlderOrEquallyOldSignedPolicyCannotReplaceTheStoredOne() throws Exception {
        KeyPair org = keys();
        var ops = new PolicyStoreOperations(tmp, Optional.of(Base64.getEncoder().encodeToString(org.getPublic().getEncoded())));
        byte[] old = envelope(org, "{\"version\":1,\"issued\":\"2026-01-10\",\"allow\":[\"*\"]}");
        byte[] current = envelope(org, "{\"version\":1,\"issued\":\"2026-03-01T09:00:00Z\",\"allow\":[\"registry.corp.example\"]}");
        byte[] sameTime = envelope(org, "{\"version\":1,\"issued\":\"2026-03-01T10:00:00+01:00\",\"allow\":[\"*\"]}");
        byte[] undated = envelope(org, "{\"version\":1,\"allow\":[\"*\"]}");
        byte[] garbled = envelope(org, "{\"version\":1,\"issued\":\"yesterday\",\"allow\":[\"*\"]}");
        assertEquals(true, ops.handle(call(HelperSchema.POLICY_STORE, old)).get("changed"));
        assertEquals(true, ops.handle(call(HelperSchema.POLICY_STORE, current)).get("changed"));

        HelperException rollback = assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, old)));
        assertEquals(HelperErrors.INVALID, rollback.code());
        assertTrue(rollback.getMessage().contains("not after the stored one") && rollback.getMessage().contains("nothing was stored"),
                rollback.getMessage());
        HelperException replay = assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, sameTime)));
        assertTrue(replay.getMessage().contains("not after the stored one"), replay.getMessage());
        HelperException noTime = assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, undated)));
        assertTrue(noTime.getMessage().contains("no \"issued\""), noTime.getMessage());
        HelperException badTime = assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, garbled)));
        assertTrue(badTime.getMessage().contains("not an ISO-8601"), badTime.getMessage());

        assertArrayEquals(current, Files.readAllBytes(tmp.resolve("registry-access.json")), "the stored policy is untouched");
        assertEquals(false, ops.handle(call(HelperSchema.POLICY_STORE, current)).get("changed"), "storing it again is no change");
        byte[] newer = envelope(org, "{\"version\":1,\"issued\":\"2026-03-01T09:00:01Z\",\"allow\":[]}");
        assertEquals(true, ops.handle(call(HelperSchema.POLICY_STORE, newer)).get("changed"));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary files are left behind");
        }
    }

    @Test
    void withoutAnInstallKeyNothingIsStored() throws Exception {
        var ops = new PolicyStoreOperations(tmp, Optional.empty());
        HelperException e = assertThrows(HelperException.class, () -> ops.handle(call(HelperSchema.POLICY_STORE, envelope(keys(), "{}"))));
        assertTrue(e.getMessage().contains("no policy key"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("registry-access.json")));
    }

    @Test
    void schemaBoundsTheDocumentAndNamesThePolicy() {
        var op = HelperSchema.operation(HelperSchema.POLICY_STORE).orElseThrow();
        var type = op.params().get(HelperSchema.PARAM_DOCUMENT).type();
        assertTrue(type.problem("a".repeat(50_000)).isPresent(), "oversized");
        assertTrue(type.problem("%%%").isPresent(), "not base64");
        assertTrue(type.problem(42L).isPresent(), "not a string");
        assertTrue(op.params().get(HelperSchema.PARAM_POLICY).type().problem("../../etc/shadow").isPresent());
    }
}
