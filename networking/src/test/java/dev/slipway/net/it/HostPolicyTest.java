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
    static final String GUEST_NS = Host.unique("slw-test-pol");
    static final String REMOTE_NS = Host.unique("slw-test-remote");
    static final int NET = 1 + Host.RUN % 250;
    static final String REMOTE = "10.202." + NET + ".5";
    static final String REMOTE_NET = "10.202." + NET + ".0/24";
    static final String HOST_SIDE = "10.201." + NET + ".1";
    static final String REMOTE_SIDE = "10.201." + NET + ".2";
    static final String VETH = Host.device("slwr");
    static final String VETH_PEER = Host.device("slwq");
    static final String TABLE = "slw_test_" + Host.RUN;
    static final int PORT = 7777;
    NetStack stack;
    GuestNamespace ns;
    Process server;

    @BeforeAll
    void start() throws Exception {
        Host.assumeRootWith("ip", "busybox", "nft");
        stopAll();
        sh("ip", "netns", "add", REMOTE_NS);
        sh("ip", "link", "add", VETH, "type", "veth", "peer", "name", VETH_PEER, "netns", REMOTE_NS);
        sh("ip", "addr", "add", HOST_SIDE + "/30", "dev", VETH);
        sh("ip", "link", "set", VETH, "up");
        sh("ip", "-n", REMOTE_NS, "addr", "add", REMOTE_SIDE + "/30", "dev", VETH_PEER);
        sh("ip", "-n", REMOTE_NS, "link", "set", VETH_PEER, "up");
        sh("ip", "-n", REMOTE_NS, "link", "set", "lo", "up");
        sh("ip", "-n", REMOTE_NS, "addr", "add", REMOTE + "/32", "dev", "lo");
        sh("ip", "-n", REMOTE_NS, "route", "add", "default", "via", HOST_SIDE);
        // the "VPN" route: only the host knows the way to the remote network
        sh("ip", "route", "add", REMOTE_NET, "via", REMOTE_SIDE, "dev", VETH);
        String cp = Path.of(GuestTool.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        server = new ProcessBuilder("ip", "netns", "exec", REMOTE_NS, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, GuestTool.class.getName(), "serve", REMOTE, Integer.toString(PORT)).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.US_ASCII));
        assertEquals("listening", r.readLine());
        NetConfig config = NetConfig.builder().tcpConnectTimeoutMillis(2000).build();
        stack = new NetStack(config);
        ns = new GuestNamespace(new ProcessCommandRunner(), GUEST_NS, Host.device("slwp"), config);
        ns.start(stack);
    }

    private static void sh(String... command) throws Exception {
        Host.Out out = Host.run(Duration.ofSeconds(20), command);
        assertEquals(0, out.exit(), String.join(" ", command) + ": " + out.stderr());
    }

    private static void stopAll() {
        try {
            Host.run(Duration.ofSeconds(10), "nft", "delete", "table", "inet", TABLE);
            Host.run(Duration.ofSeconds(10), "ip", "route", "del", REMOTE_NET);
            Host.run(Duration.ofSeconds(10), "ip", "link", "del", VETH);
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
        sh("nft", "add", "table", "inet", TABLE);
        sh("nft", "add", "chain", "inet", TABLE, "out", "{ type filter hook output priority 0 ; }");
        sh("nft", "add", "rule", "inet", TABLE, "out", "ip", "daddr", REMOTE, "tcp", "dport", Integer.toString(PORT), "drop");
        try {
            var r = TapNamespaceTest.guestIn(GUEST_NS, Duration.ofSeconds(30), "connect", REMOTE, Integer.toString(PORT), "8000");
            assertTrue(r.stdout().startsWith("failed"), r.stdout() + r.stderr());
        } finally {
            sh("nft", "delete", "table", "inet", TABLE);
        }
    }
}
