package dev.slipway.addons.registryaccess;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A Registry Access policy: the host names that count as registries and those of them that are
 * allowed. A destination that is a registry and not allowed is refused. Names match themselves;
 * {@code *.example.com} matches every name below example.com.
 *
 * <p>It travels signed: {@code {"payload": base64, "signature": base64}} with an Ed25519
 * signature over the payload's bytes; the payload is
 * {@code {"version": 1, "issued": "...", "registries": [...], "allow": [...]}}.
 */
record RegistryPolicy(List<String> registries, List<String> allow, String issued) {

    /** The policy in a signed envelope, if it verifies with {@code key}. */
    static RegistryPolicy verify(byte[] envelope, PublicKey key) throws GeneralSecurityException {
        byte[] payload;
        byte[] signature;
        try {
            JsonObject o = JsonParser.parseString(new String(envelope, StandardCharsets.UTF_8)).getAsJsonObject();
            payload = Base64.getDecoder().decode(o.get("payload").getAsString());
            signature = Base64.getDecoder().decode(o.get("signature").getAsString());
        } catch (RuntimeException e) {
            throw new GeneralSecurityException("not a signed policy: " + e.getMessage());
        }
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(payload);
        if (!verifier.verify(signature)) {
            throw new GeneralSecurityException("the signature does not match the configured policy key");
        }
        try {
            JsonObject p = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
            if (p.has("version") && p.get("version").getAsInt() != 1) {
                throw new GeneralSecurityException("policy version " + p.get("version") + " is not understood");
            }
            return new RegistryPolicy(names(p.getAsJsonArray("registries")), names(p.getAsJsonArray("allow")),
                    p.has("issued") ? p.get("issued").getAsString() : "");
        } catch (RuntimeException e) {
            throw new GeneralSecurityException("the signed policy is not readable: " + e.getMessage());
        }
    }

    static PublicKey publicKey(String base64) throws GeneralSecurityException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.strip())));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("the policy key is not base64: " + e.getMessage());
        }
    }

    private static List<String> names(JsonArray array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            for (JsonElement e : array) {
                String n = e.getAsString().strip().toLowerCase(Locale.ROOT);
                if (n.endsWith(".")) {
                    n = n.substring(0, n.length() - 1);
                }
                if (!n.isEmpty()) {
                    out.add(n);
                }
            }
        }
        return List.copyOf(out);
    }

    /** Why {@code name} is refused, or null when it is not a registry or is allowed. */
    String refusal(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (!matchesAny(n, registries) || matchesAny(n, allow)) {
            return null;
        }
        return "the registry " + n + " is not allowed by your organisation's Registry Access policy"
                + (issued.isEmpty() ? "" : " (issued " + issued + ")");
    }

    /** Names under which every name is refused: the denied registry domains no allowed name lies beneath (for DNS). */
    List<String> deniedZones() {
        List<String> zones = new ArrayList<>();
        for (String r : registries) {
            String zone = r.startsWith("*.") ? r.substring(2) : r;
            boolean allowedBelow = false;
            for (String a : allow) {
                String an = a.startsWith("*.") ? a.substring(2) : a;
                allowedBelow |= an.equals(zone) || an.endsWith("." + zone) || zone.endsWith("." + an);
            }
            if (!allowedBelow && !zone.contains("*")) {
                zones.add(zone);
            }
        }
        return zones;
    }

    static boolean matchesAny(String name, List<String> patterns) {
        for (String p : patterns) {
            if (p.startsWith("*.") ? name.endsWith(p.substring(1)) : name.equals(p)) {
                return true;
            }
        }
        return false;
    }
}
