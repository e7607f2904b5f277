package dev.slipway.networking.ports;

import java.util.HashMap;
import java.util.Map;

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.component.NetworkService;
import dev.slipway.process.ProcessCommandRunner;

/**
 * For bench/ports.sh: the network stack on a fresh namespace plus published ports,
 * {@code BenchPorts NAMESPACE MTU HOSTPORT:GUESTPORT|unix:PATH:GUESTPORT...} (TCP on 127.0.0.1, or a Unix socket). Prints
 * "ready ADDRESS" when the ports are published and runs until its standard input closes.
 */
public final class BenchPorts {
    private BenchPorts() {
    }

    public static void main(String[] args) throws Exception {
        NetworkService network = new NetworkService(Fakes.context(), Map.of("mtu", args[1]));
        GuestNamespace ns = new GuestNamespace(new ProcessCommandRunner(), args[0], "slwpb0", network.stack().config());
        PortForwarder forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
        try {
            ns.start(network.stack());
            forwarder.bindConnector(network);
            for (int i = 2; i < args.length; i++) {
                String[] p = args[i].split(":");
                if (p[0].equals("unix")) {
                    forwarder.expose(new PublishedPort("unix", p[1], "tcp://" + ns.address() + ":" + p[2]), false);
                } else {
                    forwarder.expose(new PublishedPort("tcp", "127.0.0.1:" + p[0], ns.address() + ":" + p[1]), false);
                }
            }
            System.out.println("ready " + ns.address());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the script closes our input
            }
        } finally {
            forwarder.deactivate();
            ns.close();
            Fakes.stop(network);
        }
        System.exit(0);
    }
}
