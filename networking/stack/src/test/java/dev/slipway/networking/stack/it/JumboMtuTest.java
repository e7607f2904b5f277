package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** The largest MTU: DHCP hands it out, and data flows intact both ways with 64 KiB frames. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JumboMtuTest {
    static final String NS = NetNs.unique("slw-test-jumbo");
    static final String DEVICE = NetNs.device("slwj");
    NetStack stack;
    GuestNamespace ns;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox");
        NetNs.delete(NS);
        NetConfig config = NetConfig.builder().mtu(65520).build();
        stack = new NetStack(config);
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, DEVICE, config);
        ns.start(stack);
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
        if (ns != null) {
            ns.close();
        }
        NetNs.delete(NS);
    }

    @Test
    void dhcpSetsTheGuestsMtu() throws Exception {
        var r = Commands.run(Duration.ofSeconds(10), "ip", "-n", NS, "link", "show", DEVICE);
        assertTrue(r.stdout().contains("mtu 65520"), r.stdout());
    }

    @Test
    void thirtyMegabytesEachWayArriveIntact() throws Exception {
        long bytes = 30L << 20;
        try (var sink = HostServers.sink()) {
            var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(60), "send", "192.168.65.254", Integer.toString(sink.port()),
                    Long.toString(bytes));
            assertEquals(GuestTool.digestOf(bytes), r.stdout().strip(), r.stderr());
        }
        try (var source = HostServers.source(bytes)) {
            var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(60), "recv", "192.168.65.254", Integer.toString(source.port()));
            assertEquals(bytes + " " + GuestTool.digestOf(bytes), r.stdout().strip(), r.stderr());
        }
    }

    @Test
    void maximalUdpDatagramsEchoWithoutFragmentation() throws Exception {
        try (var echo = new HostServers.UdpEcho()) {
            var r = TapNamespaceTest.guestIn(NS, Duration.ofSeconds(30), "udp-echo", "192.168.65.254", Integer.toString(echo.port()),
                    "65507", "5");
            assertTrue(Integer.parseInt(r.stdout().strip()) >= 4, r.stdout() + r.stderr());
        }
    }
}
