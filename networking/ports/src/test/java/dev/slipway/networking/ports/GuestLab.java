package dev.slipway.networking.ports;

import java.time.Duration;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Map;

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.component.NetworkService;
import dev.slipway.process.ProcessCommandRunner;
import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;

/**
 * What this module's namespace tests share: a guest network namespace on the stack through a tap,
 * with its DHCP address, and a port forwarder bound to that stack over an in-memory ConfigAdmin.
 */
final class GuestLab implements AutoCloseable {

    final String namespace;
    final Map<String, Dictionary<String, Object>> store = new HashMap<>();
    NetworkService network;
    GuestNamespace ns;
    PortForwarder forwarder;
    String guest;

    private GuestLab(String namespace) {
        this.namespace = namespace;
    }

    /** The namespace (any left by an earlier run is removed first), attached and leased, and a forwarder. */
    static GuestLab start(String namespace, String tap) throws Exception {
        NetNs.delete(namespace);
        GuestLab lab = new GuestLab(namespace);
        try {
            lab.network = Fakes.network();
            lab.ns = new GuestNamespace(new ProcessCommandRunner(), namespace, tap, lab.network.stack().config());
            lab.ns.start(lab.network.stack());
            lab.guest = lab.ns.address();
            lab.forwarder = new PortForwarder(Fakes.configAdmin(lab.store));
            lab.forwarder.bindConnector(lab.network);
            return lab;
        } catch (Exception | AssertionError e) {
            lab.close();
            throw e;
        }
    }

    /** Waits (20 s at most) until a TCP server in the namespace listens on {@code port}. */
    void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (Commands.inNs(namespace, Duration.ofSeconds(5), "ss", "-Hltn").stdout().contains(":" + port + " ")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the guest server on port " + port + " did not start");
    }

    @Override
    public void close() throws Exception {
        if (forwarder != null) {
            Fakes.stop(forwarder);
        }
        if (ns != null) {
            ns.close();
        }
        if (network != null) {
            Fakes.stop(network);
        }
        NetNs.delete(namespace);
    }
}
