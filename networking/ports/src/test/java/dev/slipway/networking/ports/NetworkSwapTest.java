package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.component.NetworkService;
import dev.slipway.process.ProcessCommandRunner;

import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/**
 * A published port outlives the network stack behind it: when the network service is replaced
 * (two stacks, each with its own guest namespace at the same address), the host port stays open
 * and its next connection goes to the new stack's guest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NetworkSwapTest {
    final List<NetworkService> networks = new ArrayList<>();
    final List<GuestNamespace> namespaces = new ArrayList<>();
    final List<Process> servers = new ArrayList<>();
    final List<Path> roots = new ArrayList<>();
    PortForwarder forwarder;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "curl");
        for (String name : List.of("first", "second")) {
            String ns = "slw-test-swap-" + name;
            NetNs.delete(ns);
            NetworkService network = Fakes.network();
            networks.add(network);
            GuestNamespace g = new GuestNamespace(new ProcessCommandRunner(), ns, "slws" + networks.size(), network.stack().config());
            namespaces.add(g);
            g.start(network.stack());
            Path root = Files.createTempDirectory("slipway-swap-www");
            roots.add(root);
            Files.writeString(root.resolve("index.html"), name + " network\n");
            servers.add(Commands.startInNs(ns, "busybox", "httpd", "-f", "-p", "80", "-h", root.toString()));
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Commands.inNs(ns, Duration.ofSeconds(5), "ss", "-Hltn").stdout().contains(":80 ")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("httpd did not start in " + ns);
                }
                Thread.sleep(100);
            }
        }
        forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
    }

    @AfterAll
    void stop() throws Exception {
        servers.forEach(Commands::stop);
        if (forwarder != null) {
            Fakes.stop(forwarder);
        }
        namespaces.forEach(GuestNamespace::close);
        for (NetworkService n : networks) {
            Fakes.stop(n);
        }
        for (Path r : roots) {
            Files.deleteIfExists(r.resolve("index.html"));
            Files.deleteIfExists(r);
        }
    }

    private String curl(int port) throws Exception {
        Commands.Out r = Commands.run(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/index.html");
        return r.exit() == 0 ? r.stdout() : "curl failed: " + r.stderr();
    }

    @Test
    void theHostPortStaysOpenAndReachesTheNewStacksGuestAfterTheNetworkIsReplaced() throws Exception {
        assertEquals(namespaces.get(0).address(), namespaces.get(1).address(), "both guests have the same address");
        forwarder.bindConnector(networks.get(0));
        int port = PublishedPortsNamespaceTest.freePort();
        forwarder.expose(new PublishedPort("tcp", "127.0.0.1:" + port, namespaces.get(0).address() + ":80"), false);
        assertEquals("first network\n", curl(port));

        // the network component is replaced: new service bound first, the old one unbound (DS dynamic greedy order)
        forwarder.bindConnector(networks.get(1));
        forwarder.unbindConnector(networks.get(0));
        assertEquals("second network\n", curl(port));
        assertEquals(1, forwarder.list().size());
    }
}
