package dev.slipway.networking.stack.it;

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

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/**
 * The guest inherits the host's policy: a "remote" network reachable only through a host route
 * (as a VPN adds) is reachable from the guest, and a host firewall rule blocks the guest too.
 * Everything runs between namespaces this test creates.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostPolicyTest {
    static final String GUEST_NS = NetNs.unique("slw-test-pol");
    static final String REMOTE_NS = NetNs.unique("slw-test-remote");
    static final int NET = 1 + NetNs.RUN % 250;
    static final String REMOTE = "10.202." + NET + ".5";
    static final String REMOTE_NET = "10.202." + NET + ".0/24";
    static final String HOST_SIDE = "10.201." + NET + ".1";
    static final String REMOTE_SIDE = "10.201." + NET + ".2";
    static final String VETH = NetNs.device("slwr");
    static final String VETH_PEER = NetNs.device("slwq");
    static final String TABLE = "slw_test_" + NetNs.RUN;
    static final int PORT = 7777;
    NetStack stack;
    GuestNamespace ns;
    Process server;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "nft");
        stopAll();
        NetNs.add(REMOTE_NS);
        NetNs.veth(VETH, HOST_SIDE + "/30", REMOTE_NS, VETH_PEER, REMOTE_SIDE + "/30");
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
        ns = new GuestNamespace(new ProcessCommandRunner(), GUEST_NS, NetNs.device("slwp"), config);
        ns.start(stack);
    }

    private static void sh(String... command) throws Exception {
        Commands.check(Duration.ofSeconds(20), command);
    }

    private static void stopAll() {
        Commands.quietly("nft", "delete", "table", "inet", TABLE);
        Commands.quietly("ip", "route", "del", REMOTE_NET);
        NetNs.deleteLink(VETH);
        NetNs.delete(REMOTE_NS);
        NetNs.delete(GUEST_NS);
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
