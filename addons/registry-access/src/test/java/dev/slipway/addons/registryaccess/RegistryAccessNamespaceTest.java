package dev.slipway.addons.registryaccess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.api.ConnectionPolicy;
import dev.slipway.networking.proxy.ProxyLab;

import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * A guest's curl to an allowed and a denied "registry" (TLS and plain HTTP servers in a test
 * namespace) with the policy's connection-policy service present and then withdrawn, as when the
 * add-on bundle is installed and removed while everything runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RegistryAccessNamespaceTest {
    static final String O = ProxyLab.ORIGIN_IP;
    ProxyLab lab;
    ConnectionPolicy policy;

    @BeforeAll
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "curl", "tinyproxy", "openssl", "ss");
        lab = new ProxyLab("slw-test-ram", 1L << 20);
        Signer org = new Signer();
        RegistryPolicy p = RegistryPolicy.verify(org.sign(Signer.policy("2026-11-26", "\"allowed.test\",\"denied.test\"", "\"allowed.test\"")),
                RegistryPolicy.publicKey(org.publicKey()));
        policy = (name, address, port, source) -> p.refusal(name);
    }

    @AfterAll
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    Commands.Out curl(String name, String scheme) throws Exception {
        int port = scheme.equals("https") ? 443 : 80;
        return lab.guest("curl", "-sS", "-k", "--max-time", "15", "--resolve", name + ":" + port + ":" + O,
                "-w", "\n%{http_code}", scheme + "://" + name + "/index.html");
    }

    void assertReachable(String name) throws Exception {
        assertEquals(ProxyLab.INDEX + "\n200", curl(name, "https").stdout(), name + " https");
        assertEquals(ProxyLab.INDEX + "\n200", curl(name, "http").stdout(), name + " http");
    }

    @Test
    void policyRefusesTheDeniedRegistryBySniAndHostOnlyWhileInstalled() throws Exception {
        for (ProxyConfig config : List.of(ProxyConfig.none("test"),
                new ProxyConfig(new ProxyServer("http", O, ProxyLab.PROXY_PORT, null, null),
                        new ProxyServer("http", O, ProxyLab.PROXY_PORT, null, null), null, List.of(), null, false, "test"))) {
            lab.use(config);
            assertReachable("denied.test");

            lab.addPolicy(policy); // the add-on starts
            try {
                assertReachable("allowed.test");
                Commands.Out tls = curl("denied.test", "https");
                assertNotEquals(0, tls.exit(), "TLS to the denied registry is closed: " + tls);
                Commands.Out http = curl("denied.test", "http");
                assertTrue(http.stdout().endsWith("\n403"), http.toString());
                assertTrue(http.stdout().contains("denied.test is not allowed by your organisation's Registry Access policy"), http.toString());
                Commands.Out explicit = lab.guest("curl", "-sS", "-k", "--max-time", "15", "-x", "http://192.168.65.1:3128", "https://denied.test/index.html");
                assertNotEquals(0, explicit.exit(), "CONNECT through the gateway proxy is refused too: " + explicit);
            } finally {
                lab.removePolicy(policy); // the add-on is removed
            }
            assertReachable("denied.test");
        }
    }
}
