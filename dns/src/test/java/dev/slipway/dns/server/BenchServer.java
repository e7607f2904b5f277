package dev.slipway.dns.server;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs Slipway's DNS server outside a framework for bench/dns.sh: the answering logic and the host
 * listener, as the runtime wires them. Usage: {@code BenchServer LISTEN [UPSTREAM [THREADS [SWAP_MS]]]};
 * with SWAP_MS, the answering logic is replaced by a new instance that often (as when its bundle
 * is updated) while the listener keeps its sockets. Runs until its standard input closes.
 */
public final class BenchServer {

    private BenchServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: BenchServer LISTEN [UPSTREAM [THREADS [SWAP_MS]]]");
            System.exit(2);
        }
        Map<String, Object> config = new HashMap<>();
        if (args.length > 1 && !args[1].isEmpty()) {
            config.put("upstreams", new String[] {args[1]});
        }
        if (args.length > 2) {
            config.put("listenerThreads", Integer.parseInt(args[2]));
        }
        long swapMillis = args.length > 3 ? Long.parseLong(args[3]) : 0;
        DnsStats stats = new DnsStats();
        DnsServer[] server = {new DnsServer(stats, Configs.dns(config))};
        DnsListener listener = new DnsListener(stats, Configs.dns(config), args[0]);
        listener.setDnsService(server[0]);
        int[] swaps = {0};
        Thread swapper = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(swapMillis);
                    DnsServer old = server[0];
                    listener.unsetDnsService(old);
                    old.deactivate();
                    server[0] = new DnsServer(stats, Configs.dns(config));
                    listener.setDnsService(server[0]);
                    swaps[0]++;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-swapper");
        if (swapMillis > 0) {
            swapper.setDaemon(true);
            swapper.start();
        }
        System.out.println("listening " + listener.address());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the benchmark closes our input
        }
        swapper.interrupt();
        swapper.join(2000);
        System.err.println("logic replaced " + swaps[0] + " times");
        System.err.println(DnsCommand.render(stats.status(), ""));
        listener.deactivate();
        server[0].deactivate();
    }
}
