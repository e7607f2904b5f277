package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

import dev.slipway.addons.registryaccess.DeniedRegistryZones;

/**
 * The policy's DNS side in Slipway's real DNS server: denied registry names answer NXDOMAIN while
 * the add-on's record source is registered, and are forwarded again once it is withdrawn. (In this
 * package to reach the server's whiteboard binding without a framework.)
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DeniedRegistryDnsTest {

    static DnsConfig defaults() {
        return (DnsConfig) Proxy.newProxyInstance(DnsConfig.class.getClassLoader(), new Class<?>[] {DnsConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "annotationType" -> DnsConfig.class;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "DnsConfig";
                    default -> method.getDefaultValue();
                });
    }

    static int rcode(DnsServer server, String name) throws Exception {
        byte[] wire = Message.newQuery(Record.newRecord(Name.fromString(name + "."), Type.A, DClass.IN)).toWire();
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        server.answer(ByteBuffer.wrap(wire), new InetSocketAddress("192.168.65.3", 40000), false, reply -> {
            try {
                byte[] b = new byte[reply.remaining()];
                reply.get(b);
                answer.complete(new Message(b).getRcode());
            } catch (Exception e) {
                answer.completeExceptionally(e);
            }
        });
        return answer.get(10, TimeUnit.SECONDS);
    }

    @Test
    void deniedRegistriesAnswerNxdomainOnlyWhileThePolicyIsRegistered() throws Exception {
        KeyPair k = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] payload = "{\"version\":1,\"registries\":[\"denied.test\",\"*.docker.io\",\"allowed.test\"],\"allow\":[\"allowed.test\",\"registry-1.docker.io\"]}"
                .getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(k.getPrivate());
        s.update(payload);
        byte[] envelope = ("{\"payload\":\"" + Base64.getEncoder().encodeToString(payload) + "\",\"signature\":\""
                + Base64.getEncoder().encodeToString(s.sign()) + "\"}").getBytes(StandardCharsets.UTF_8);
        DeniedRegistryZones zones = DeniedRegistryZones.of(envelope, Base64.getEncoder().encodeToString(k.getPublic().getEncoded()));

        DnsServer server = new DnsServer(new DnsStats(), defaults());
        try {
            server.addSource(zones, Map.of());
            assertEquals(Rcode.NXDOMAIN, rcode(server, "denied.test"));
            assertEquals(Rcode.NXDOMAIN, rcode(server, "mirror.denied.test"));
            server.removeSource(zones);
            assertNotEquals(Rcode.NXDOMAIN, rcode(server, "denied.test"), "no longer answered locally once withdrawn");
        } finally {
            server.deactivate();
        }
    }
}
