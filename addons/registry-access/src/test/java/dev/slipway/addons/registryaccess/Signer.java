package dev.slipway.addons.registryaccess;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;

/** The organisation's side in tests: a key pair and signed policy envelopes. */
final class Signer {
    final KeyPair keys;

    Signer() throws Exception {
        keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    String publicKey() {
        return Base64.getEncoder().encodeToString(keys.getPublic().getEncoded());
    }

    byte[] sign(String payload) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(keys.getPrivate());
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        s.update(p);
        return ("{\"payload\":\"" + Base64.getEncoder().encodeToString(p) + "\",\"signature\":\""
                + Base64.getEncoder().encodeToString(s.sign()) + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    static String policy(String issued, String registries, String allow) {
        return "{\"version\":1,\"issued\":\"" + issued + "\",\"registries\":[" + registries + "],\"allow\":[" + allow + "]}";
    }

    /** The same envelope with one character of the payload's JSON changed, signature kept. */
    static byte[] tamper(byte[] envelope) {
        String e = new String(envelope, StandardCharsets.UTF_8);
        int start = e.indexOf("\"payload\":\"") + 11;
        int end = e.indexOf('"', start);
        String payload = new String(Base64.getDecoder().decode(e.substring(start, end)), StandardCharsets.UTF_8);
        String changed = payload.replace("\"allow\":[", "\"allow\":[\"denied.test\",");
        return (e.substring(0, start) + Base64.getEncoder().encodeToString(changed.getBytes(StandardCharsets.UTF_8)) + e.substring(end))
                .getBytes(StandardCharsets.UTF_8);
    }
}
