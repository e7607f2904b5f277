package dev.slipway.networking.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;

import dev.slipway.testing.Commands;

/**
 * bench/proxy.sh's driver: a large download through tinyproxy, from the guest through Slipway's
 * transparent path and from the host with curl -x, alternating in the same run. Prints one line
 * per case with min/median/max MB/s and the guest/host ratio of the medians.
 * Args: runs megabytes
 */
public final class ProxyBench {
    private ProxyBench() {}

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        long mb = Long.parseLong(args[1]);
        try (ProxyLab lab = new ProxyLab("slw-bench", mb << 20)) {
            ProxyServer p = new ProxyServer("http", ProxyLab.ORIGIN_IP, ProxyLab.PROXY_PORT, null, null);
            lab.use(new ProxyConfig(p, p, null, List.of(), null, false, "bench"));
            String proxy = "http://" + ProxyLab.ORIGIN_IP + ":" + ProxyLab.PROXY_PORT;
            System.out.printf("%-8s %-42s %8s %8s %8s %7s%n", "scheme", "path", "min", "median", "max", "ratio");
            for (String scheme : new String[] {"http", "https"}) {
                int port = scheme.equals("http") ? 80 : 443;
                String url = scheme + "://origin.test/big.bin";
                List<Double> guest = new ArrayList<>();
                List<Double> host = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    guest.add(speed(lab.guest("curl", "-sS", "-k", "--max-time", "120", "-o", "/dev/null", "-w", "%{speed_download}",
                            "--resolve", "origin.test:" + port + ":" + ProxyLab.ORIGIN_IP, url)));
                    host.add(speed(Commands.run(Duration.ofSeconds(130), "curl", "-sS", "-k", "--max-time", "120", "-o", "/dev/null",
                            "-w", "%{speed_download}", "-x", proxy, url)));
                }
                double g = median(guest);
                double h = median(host);
                System.out.printf("%-8s %-42s %8.1f %8.1f %8.1f %7s%n", scheme, "guest -> Slipway transparent -> tinyproxy",
                        Collections.min(guest), g, Collections.max(guest), String.format("%.2fx", g / h));
                System.out.printf("%-8s %-42s %8.1f %8.1f %8.1f %7s%n", scheme, "host curl -x tinyproxy",
                        Collections.min(host), h, Collections.max(host), "1.00x");
            }
        }
    }

    private static double speed(Commands.Out out) {
        if (!out.ok()) {
            throw new IllegalStateException("curl failed: " + out);
        }
        return Double.parseDouble(out.stdout().strip()) / 1e6;
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
