package dev.slipway.helper.policystore;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Optional;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A signed policy as it travels and is stored: {@code {"payload": base64, "signature": base64}},
 * the Ed25519 signature being over the payload's bytes exactly (no JSON canonicalisation needed).
 */
record SignedEnvelope(byte[] payload, byte[] signature) {

    /** The envelope in {@code bytes}, if its signature verifies with {@code key}; otherwise why not. */
    static SignedEnvelope verify(byte[] bytes, PublicKey key) throws GeneralSecurityException {
        SignedEnvelope e = parse(bytes);
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(e.payload());
        if (!verifier.verify(e.signature())) {
            throw new GeneralSecurityException("the signature does not match the policy key");
        }
        return e;
    }

    /** The envelope in {@code bytes}, signature not checked (for a document the helper stored itself). */
    static SignedEnvelope parse(byte[] bytes) throws GeneralSecurityException {
        try {
            JsonObject o = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)).getAsJsonObject();
            return new SignedEnvelope(Base64.getDecoder().decode(o.get("payload").getAsString()),
                    Base64.getDecoder().decode(o.get("signature").getAsString()));
        } catch (RuntimeException ex) {
            throw new GeneralSecurityException("not a signed policy envelope: " + ex.getMessage());
        }
    }

    /**
     * The payload's {@code issued} time: an ISO-8601 instant, date-time with offset, or date (read as
     * its start in UTC); empty when the payload has none.
     */
    Optional<Instant> issued() throws GeneralSecurityException {
        String text;
        try {
            JsonElement issued = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject().get("issued");
            if (issued == null || issued.isJsonNull()) {
                return Optional.empty();
            }
            text = issued.getAsString();
        } catch (RuntimeException ex) {
            throw new GeneralSecurityException("the policy payload is not a JSON object with a text \"issued\": " + ex.getMessage());
        }
        try {
            return Optional.of(OffsetDateTime.parse(text).toInstant());
        } catch (DateTimeParseException notADateTime) {
            try {
                return Optional.of(LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC));
            } catch (DateTimeParseException notADate) {
                throw new GeneralSecurityException("the policy's \"issued\" (" + text + ") is not an ISO-8601 date or date-time");
            }
        }
    }

    static PublicKey publicKey(String base64) throws GeneralSecurityException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.strip())));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("the policy key is not base64: " + e.getMessage());
        }
    }
}
