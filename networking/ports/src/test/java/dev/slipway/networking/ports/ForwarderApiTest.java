package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.control.ControlRoute;
import dev.slipway.networking.stack.component.NetworkService;

/** gvisor-tap-vsock's forwarder routes, byte for byte: field names, order, status codes and Go's error texts. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwarderApiTest {
    final Map<String, Dictionary<String, Object>> store = new HashMap<>();
    NetworkService network;
    PortForwarder forwarder;
    ControlRoute all, expose, unexpose;

    @BeforeEach
    void start() throws Exception {
        network = Fakes.network();
        forwarder = new PortForwarder(Fakes.configAdmin(store));
        forwarder.bindConnector(network);
        PortServices routes = new PortServices(forwarder);
        all = routes::all;
        expose = routes::expose;
        unexpose = routes::unexpose;
    }

    @AfterEach
    void stop() throws Exception {
        Fakes.stop(forwarder);
        Fakes.stop(network);
    }

    static ControlRoute.Request post(String json) {
        return new ControlRoute.Request("POST", Map.of(), json.getBytes(StandardCharsets.UTF_8));
    }

    static String body(ControlRoute.Response r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void allIsAnEmptyJsonArrayWhenNothingIsPublished() throws Exception {
        ControlRoute.Response r = all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]));
        assertEquals(200, r.status());
        assertEquals("[]\n", body(r));
    }

    @Test
    void exposeAnswers200WithAnEmptyBodyAndAllListsLocalRemoteProtocolSorted() throws Exception {
        int a = freePort();
        int b = freePort();
        ControlRoute.Response r = expose.handle(post("{\"local\":\"127.0.0.1:" + b + "\",\"remote\":\"192.168.65.3:80\",\"protocol\":\"tcp\"}"));
        assertEquals(200, r.status(), body(r));
        assertEquals("", body(r));
        // protocol left out means tcp, as in gvisor-tap-vsock
        assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:81\"}")).status());
        assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:53\",\"protocol\":\"udp\"}")).status());
        String[] locals = {"127.0.0.1:" + a, "127.0.0.1:" + b};
        java.util.Arrays.sort(locals);
        String first = locals[0].equals("127.0.0.1:" + a)
                ? "{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:81\",\"protocol\":\"tcp\"},"
                        + "{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:53\",\"protocol\":\"udp\"}"
                : null;
        String second = "{\"local\":\"127.0.0.1:" + b + "\",\"remote\":\"192.168.65.3:80\",\"protocol\":\"tcp\"}";
        String expected = first != null ? "[" + first + "," + second + "]\n"
                : "[" + second + ",{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:81\",\"protocol\":\"tcp\"},"
                        + "{\"local\":\"127.0.0.1:" + a + "\",\"remote\":\"192.168.65.4:53\",\"protocol\":\"udp\"}]\n";
        assertEquals(expected, body(all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]))));
    }

    @Test
    void anIpv6LocalSideIsGivenInBrackets() throws Exception {
        int p = freePort();
        ControlRoute.Response r = expose.handle(post("{\"local\":\"[::1]:" + p + "\",\"remote\":\"192.168.65.3:80\"}"));
        assertEquals(200, r.status(), body(r));
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getByName("::1"), p)) {
            assertTrue(s.isConnected(), "listening on the IPv6 loopback");
        }
        assertTrue(body(all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]))).contains("\"local\":\"[::1]:" + p + "\""));
        ControlRoute.Response bare = expose.handle(post("{\"local\":\"::1:" + freePort() + "\",\"remote\":\"192.168.65.3:80\"}"));
        assertEquals(500, bare.status(), "as gvisor-tap-vsock answers a local side it cannot listen on");
        assertTrue(body(bare).contains("brackets"), body(bare));
        ControlRoute.Response name = expose.handle(post("{\"local\":\"[localhost]:" + freePort() + "\",\"remote\":\"192.168.65.3:80\"}"));
        assertEquals(500, name.status(), body(name));
        assertTrue(body(name).contains("literal IPv6"), body(name));
    }

    @Test
    void exposeTwiceIs500WithGvisorsMessage() throws Exception {
        int p = freePort();
        String req = "{\"local\":\"127.0.0.1:" + p + "\",\"remote\":\"192.168.65.3:80\",\"protocol\":\"tcp\"}";
        assertEquals(200, expose.handle(post(req)).status());
        ControlRoute.Response r = expose.handle(post(req));
        assertEquals(500, r.status());
        assertEquals("proxy already running for tcp on 127.0.0.1:" + p + "\n", body(r));
    }

    @Test
    void getOnExposeAndUnexposeIs400PostOnly() throws Exception {
        ControlRoute.Request get = new ControlRoute.Request("GET", Map.of(), new byte[0]);
        assertEquals(400, expose.handle(get).status());
        assertEquals("post only\n", body(expose.handle(get)));
        assertEquals(400, unexpose.handle(get).status());
        assertEquals("post only\n", body(unexpose.handle(get)));
    }

    @Test
    void malformedJsonOrWrongFieldTypesAre400() throws Exception {
        assertEquals(400, expose.handle(post("{\"local\":")).status());
        assertEquals(400, expose.handle(post("{\"local\":8080,\"remote\":\"192.168.65.3:80\"}")).status());
        assertEquals(400, expose.handle(post("[]")).status());
        assertEquals(400, unexpose.handle(post("nonsense{")).status());
        ControlRoute.Response r = expose.handle(post("{\"local\":\"127.0.0.1:1\",\"remote\":\"192.168.65.3\"}"));
        assertEquals(400, r.status());
        assertEquals("address 192.168.65.3: missing port in address\n", body(r));
    }

    @Test
    void unexposeOfUnknownIs500ProxyNotFoundAndKnownIs200() throws Exception {
        ControlRoute.Response r = unexpose.handle(post("{\"local\":\"127.0.0.1:1\",\"protocol\":\"tcp\"}"));
        assertEquals(500, r.status());
        assertEquals("proxy not found\n", body(r));
        int p = freePort();
        assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + p + "\",\"remote\":\"192.168.65.3:80\"}")).status());
        ControlRoute.Response ok = unexpose.handle(post("{\"local\":\"127.0.0.1:" + p + "\"}"));
        assertEquals(200, ok.status(), body(ok));
        assertEquals("[]\n", body(all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]))));
    }

    @Test
    void anUnexposedPortIsClosedWhenUnexposeReturns() throws Exception {
        for (int i = 0; i < 20; i++) { // the loop sleeps with no timeout: each unexpose must still free its port at once
            int p = freePort();
            assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + p + "\",\"remote\":\"192.168.65.3:80\"}")).status());
            assertEquals(200, unexpose.handle(post("{\"local\":\"127.0.0.1:" + p + "\"}")).status());
            try (java.net.Socket s = new java.net.Socket()) {
                assertThrows(java.io.IOException.class, () -> s.connect(new java.net.InetSocketAddress("127.0.0.1", p), 1000),
                        "nothing listens on " + p + " after unexpose");
            }
            try (ServerSocket again = new ServerSocket()) {
                again.bind(new java.net.InetSocketAddress("127.0.0.1", p)); // and the port can be bound again
            }
        }
    }

    @Test
    void unknownGuestAddressPortInUseAndAllAddressesAreRefusedWithClearErrorsAndNothingLeftBehind() throws Exception {
        ControlRoute.Response outside = expose.handle(post("{\"local\":\"127.0.0.1:" + freePort() + "\",\"remote\":\"10.1.2.3:80\"}"));
        assertEquals(500, outside.status());
        assertTrue(body(outside).contains("unknown guest address: 10.1.2.3 is outside the guest network"), body(outside));
        ControlRoute.Response gateway = expose.handle(post("{\"local\":\"127.0.0.1:" + freePort() + "\",\"remote\":\"192.168.65.1:80\"}"));
        assertTrue(body(gateway).contains("gateway"), body(gateway));
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ControlRoute.Response inUse = expose.handle(post("{\"local\":\"127.0.0.1:" + busy.getLocalPort() + "\",\"remote\":\"192.168.65.3:80\"}"));
            assertEquals(500, inUse.status());
            assertEquals("cannot listen on tcp 127.0.0.1:" + busy.getLocalPort() + ": the port is in use\n", body(inUse));
        }
        ControlRoute.Response any = expose.handle(post("{\"local\":\":" + freePort() + "\",\"remote\":\"192.168.65.3:80\"}"));
        assertEquals(500, any.status());
        assertTrue(body(any).contains("all-addresses"), body(any));
        ControlRoute.Response bad = expose.handle(post("{\"local\":\"127.0.0.1:1\",\"remote\":\"192.168.65.3:80\",\"protocol\":\"sctp\"}"));
        assertEquals(500, bad.status());
        assertEquals("unknown protocol sctp\n", body(bad));
        assertEquals("[]\n", body(all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]))));
        Object stored = store.get(PortForwarder.PID) == null ? null : store.get(PortForwarder.PID).get(PortForwarder.STORED);
        assertTrue(stored == null || ((String[]) stored).length == 0, "nothing stored after refusals");
    }

    @Test
    void publishedPortsAreStoredAndPublishedAgainByTheNextRuntime() throws Exception {
        int p = freePort();
        assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + p + "\",\"remote\":\"192.168.65.3:80\"}")).status());
        Fakes.stop(forwarder);
        PortForwarder next = new PortForwarder(Fakes.configAdmin(store));
        try {
            next.bindConnector(network);
            assertEquals(java.util.List.of(new PublishedPort("tcp", "127.0.0.1:" + p, "192.168.65.3:80")), next.list());
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", p)) {
                assertTrue(s.isConnected(), "the port listens again");
            }
        } finally {
            forwarder = next;
        }
    }

    @Test
    void connectionsWhileNoNetworkRunsAreClosedAndTheListenerStays() throws Exception {
        int p = freePort();
        assertEquals(200, expose.handle(post("{\"local\":\"127.0.0.1:" + p + "\",\"remote\":\"192.168.65.3:80\"}")).status());
        forwarder.unbindConnector(network);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", p)) {
            s.setSoTimeout(5000);
            assertEquals(-1, s.getInputStream().read(), "closed at once");
        }
        forwarder.bindConnector(network);
        assertEquals(1, forwarder.list().size());
    }

    @Test
    void hostileOrMalformedRequestsAreRefusedAndNothingIsBound() throws Exception {
        String[] bad = {
            "{\"local\":\"localhost:8080\",\"remote\":\"192.168.65.3:80\"}",
            "{\"local\":\"127.0.0.1:70000\",\"remote\":\"192.168.65.3:80\"}",
            "{\"local\":\"127.0.0.1:8080\",\"remote\":\"192.168.65.3:0\"}",
            "{\"local\":\"127.0.0.1:8080\",\"remote\":\"192.168.65.255:80\"}",
            "{\"local\":\"127.0.0.1:8080\",\"remote\":\"192.168.65.254:80\"}",
            "{\"local\":\"relative/docker.sock\",\"remote\":\"tcp://192.168.65.3:2375\",\"protocol\":\"unix\"}",
            "{\"local\":\"/tmp/x.sock\",\"remote\":\"ssh-tunnel://root@192.168.65.3/run/docker.sock\",\"protocol\":\"unix\"}",
            "{\"local\":\"127.0.0.1:8080\",\"remote\":\"[::1]:80\"}",
        };
        for (String b : bad) {
            ControlRoute.Response r = expose.handle(post(b));
            assertTrue(r.status() == 400 || r.status() == 500, b + " -> " + r.status());
            assertTrue(body(r).endsWith("\n") && body(r).length() > 1, "a reason for " + b);
        }
        assertEquals("remote protocol for unix forwarder is not implemented: ssh-tunnel\n",
                body(expose.handle(post(bad[6]))));
        byte[] junk = new byte[1 << 20];
        java.util.Arrays.fill(junk, (byte) '[');
        assertEquals(400, expose.handle(new ControlRoute.Request("POST", Map.of(), junk)).status());
        assertEquals("[]\n", body(all.handle(new ControlRoute.Request("GET", Map.of(), new byte[0]))));
    }

    @Test
    void commandsPublishOnLoopbackByDefaultAndAnswerUsageErrorsWithExitCode2() throws Exception {
        int p = freePort();
        var out = PortCommands.expose(forwarder, java.util.List.of("tcp", Integer.toString(p), "192.168.65.3:80"));
        assertEquals(0, out.exitCode(), out.err());
        assertTrue(PortCommands.list(forwarder).out().contains("127.0.0.1:" + p), "listed");
        assertEquals(2, PortCommands.expose(forwarder, java.util.List.of("tcp")).exitCode());
        assertEquals(2, PortCommands.unexpose(forwarder, java.util.List.of()).exitCode());
        var any = PortCommands.expose(forwarder, java.util.List.of("tcp", "0.0.0.0:" + freePort(), "192.168.65.3:80"));
        assertEquals(1, any.exitCode());
        assertTrue(any.err().contains("--all-addresses"), any.err());
        assertEquals(0, PortCommands.unexpose(forwarder, java.util.List.of("tcp", Integer.toString(p))).exitCode());
        assertEquals(1, PortCommands.unexpose(forwarder, java.util.List.of("tcp", Integer.toString(p))).exitCode());
    }
}
