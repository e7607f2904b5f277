package dev.slipway.policy.store;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A signed policy as it travels and is stored: {@code {"payload": base64, "signature": base64}},
 * the Ed25519 signature being over the payload's bytes exactly (no JSON canonicalisation needed).
 */
record SignedEnvelope(byte[] payload, byte[] signature) {

    /** The envelope in {@code bytes}, if its signature verifies with {@code key}; otherwise why not. */
    static SignedEnvelope verify(byte[] bytes, PublicKey key) throws GeneralSecurityException {
        SignedEnvelope e;
        try {
            JsonObject o = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)).getAsJsonObject();
            e = new SignedEnvelope(Base64.getDecoder().decode(o.get("payload").getAsString()),
                    Base64.getDecoder().decode(o.get("signature").getAsString()));
        } catch (RuntimeException ex) {
            throw new GeneralSecurityException("not a signed policy envelope: " + ex.getMessage());
        }
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(e.payload());
        if (!verifier.verify(e.signature())) {
            throw new GeneralSecurityException("the signature does not match the policy key");
        }
        return e;
    }

    static PublicKey publicKey(String base64) throws GeneralSecurityException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.strip())));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("the policy key is not base64: " + e.getMessage());
        }
    }
}
