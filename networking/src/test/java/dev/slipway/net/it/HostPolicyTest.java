package dev.slipway.net.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.net.component.GuestNamespace;
import dev.slipway.net.stack.NetConfig;
import dev.slipway.net.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

/**
 * The guest inherits the host's policy: a "remote" network reachable only through a host route
 * (as a VPN adds) is reachable from the guest, and a host firewall rule blocks the guest too.
 * Everything runs between namespaces this test creates.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostPolicyTest {
    static final String GUEST_NS = "slw-test-pol";
    static final String REMOTE_NS = "slw-test-remote";
    static final String REMOTE = "10.202.5.5";
    static final int PORT = 7777;
    NetStack stack;
    GuestNamespace ns;
    Process server;

    @BeforeAll
    void start() throws Exception {
        Host.assumeRootWith("ip", "busybox", "nft");
        stopAll();
        sh("ip", "netns", "add", REMOTE_NS);
        sh("ip", "link", "add", "slwr0", "type", "veth", "peer", "name", "slwr1", "netns", REMOTE_NS);
        sh("ip", "addr", "add", "10.201.0.1/30", "dev", "slwr0");
        sh("ip", "link", "set", "slwr0", "up");
        sh("ip", "-n", REMOTE_NS, "addr", "add", "10.201.0.2/30", "dev", "slwr1");
        sh("ip", "-n", REMOTE_NS, "link", "set", "slwr1", "up");
        sh("ip", "-n", REMOTE_NS, "link", "set", "lo", "up");
        sh("ip", "-n", REMOTE_NS, "addr", "add", REMOTE + "/32", "dev", "lo");
        sh("ip", "-n", REMOTE_NS, "route", "add", "default", "via", "10.201.0.1");
        // the "VPN" route: only the host knows the way to the remote network
        sh("ip", "route", "add", "10.202.5.0/24", "via", "10.201.0.2", "dev", "slwr0");
        String cp = Path.of(GuestTool.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        server = new ProcessBuilder("ip", "netns", "exec", REMOTE_NS, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, GuestTool.class.getName(), "serve", REMOTE, Integer.toString(PORT)).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.US_ASCII));
        assertEquals("listening", r.readLine());
        NetConfig config = NetConfig.builder().tcpConnectTimeoutMillis(2000).build();
        stack = new NetStack(config);
        ns = new GuestNamespace(new ProcessCommandRunner(), GUEST_NS, "slwp0", config);
        ns.start(stack);
    }

    private static void sh(String... command) throws Exception {
        Host.Out out = Host.run(Duration.ofSeconds(20), command);
        assertEquals(0, out.exit(), String.join(" ", command) + ": " + out.stderr());
    }

    private static void stopAll() {
        try {
            Host.run(Duration.ofSeconds(10), "nft", "delete", "table", "inet", "slw_test");
            Host.run(Duration.ofSeconds(10), "ip", "route", "del", "10.202.5.0/24");
            Host.run(Duration.ofSeconds(10), "ip", "link", "del", "slwr0");
        } catch (Exception e) {
            // best effort cleanup
        }
        Host.delNs(REMOTE_NS);
        Host.delNs(GUEST_NS);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.destroyForcibly();
        }
        if (stack != null) {
            stack.close();
        }
        if (ns != null) {
            ns.close();
        }
        stopAll();
    }

    @Test
    void remoteNetworkBehindAHostRouteIsReachableFromTheGuest() throws Exception {
        var r = TapNamespaceTest.guestIn(GUEST_NS, Duration.ofSeconds(30), "connect", REMOTE, Integer.toString(PORT), "5000");
        assertEquals("connected", r.stdout().strip(), r.stderr());
    }

    @Test
    void hostFirewallRuleBlocksTheGuestToo() throws Exception {
        sh("nft", "add", "table", "inet", "slw_test");
        sh("nft", "add", "chain", "inet", "slw_test", "out", "{ type filter hook output priority 0 ; }");
        sh("nft", "add", "rule", "inet", "slw_test", "out", "ip", "daddr", REMOTE, "tcp", "dport", Integer.toString(PORT), "drop");
        try {
            var r = TapNamespaceTest.guestIn(GUEST_NS, Duration.ofSeconds(30), "connect", REMOTE, Integer.toString(PORT), "8000");
            assertTrue(r.stdout().startsWith("failed"), r.stdout() + r.stderr());
        } finally {
            sh("nft", "delete", "table", "inet", "slw_test");
        }
    }
}
