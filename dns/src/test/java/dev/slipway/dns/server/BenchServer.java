package dev.slipway.dns.server;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs Slipway's DNS server outside a framework for bench/dns.sh: the answering logic and the host
 * listener, as the runtime wires them. Usage: {@code BenchServer LISTEN [UPSTREAM]}; runs until
 * its standard input closes.
 */
public final class BenchServer {

    private BenchServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: BenchServer LISTEN [UPSTREAM]");
            System.exit(2);
        }
        Map<String, Object> config = new HashMap<>();
        if (args.length > 1) {
            config.put("upstreams", new String[] {args[1]});
        }
        DnsStats stats = new DnsStats();
        DnsServer server = new DnsServer(stats, Configs.dns(config));
        DnsListener listener = new DnsListener(stats, Configs.dns(config), args[0]);
        listener.setDnsService(server);
        System.out.println("listening " + listener.address());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the benchmark closes our input
        }
        System.err.println(DnsCommand.render(stats.status(), ""));
        listener.deactivate();
        server.deactivate();
    }
}
