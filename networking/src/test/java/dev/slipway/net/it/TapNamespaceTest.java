package dev.slipway.net.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.net.component.GuestNamespace;
import dev.slipway.net.stack.NetConfig;
import dev.slipway.net.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

/** The stack behind a tap device in a real network namespace, driven by the kernel's own tools. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TapNamespaceTest {
    static final String NS = "slw-test-tap";
    NetStack stack;
    GuestNamespace ns;
    HttpServer http;

    @BeforeAll
    void start() throws Exception {
        Host.assumeRootWith("ip", "busybox");
        Host.delNs(NS);
        stack = new NetStack(NetConfig.defaults());
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, "slwt0", NetConfig.defaults());
        ns.start(stack);
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            byte[] body = "hello from the host\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
    }

    @AfterAll
    void stop() {
        if (http != null) {
            http.stop(0);
        }
        if (stack != null) {
            stack.close();
        }
        if (ns != null) {
            ns.close();
        }
        Host.delNs(NS);
    }

    @Test
    void dhcpClientGetsTheFirstGuestAddress() {
        assertEquals("192.168.65.3", ns.address());
    }

    @Test
    void pingReachesTheGatewayAndTheHostAlias() throws Exception {
        var gw = Host.inNs(NS, Duration.ofSeconds(20), "busybox", "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1");
        assertTrue(gw.ok(), gw.stdout() + gw.stderr());
        var alias = Host.inNs(NS, Duration.ofSeconds(20), "busybox", "ping", "-c", "2", "-i", "0.2", "-W", "2", "192.168.65.254");
        assertTrue(alias.ok(), alias.stdout() + alias.stderr());
    }

    @Test
    void curlReachesAHostServerOnLoopbackThroughTheHostAlias() throws Exception {
        var r = Host.inNs(NS, Duration.ofSeconds(30), "curl", "-sS", "--max-time", "10",
                "http://192.168.65.254:" + http.getAddress().getPort() + "/");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals("hello from the host\n", r.stdout());
    }
}
