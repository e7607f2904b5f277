package dev.slipway.networking.ports;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Locale;

/**
 * For bench/ports.sh: {@code BenchConnRate HOST PORT SECONDS} opens connections one after the
 * other for SECONDS, each carrying one byte to an echo server and back before closing; prints
 * "connections/s failures".
 */
public final class BenchConnRate {
    private BenchConnRate() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        long start = System.nanoTime();
        long until = start + Long.parseLong(args[2]) * 1_000_000_000L;
        long count = 0;
        long failed = 0;
        while (System.nanoTime() < until && failed < 1000) {
            try (Socket s = new Socket()) {
                s.setSoTimeout(5000);
                s.setTcpNoDelay(true);
                s.connect(to, 5000);
                s.getOutputStream().write('x');
                if (s.getInputStream().read() == 'x') {
                    count++;
                } else {
                    failed++;
                }
            } catch (java.io.IOException e) {
                failed++;
            }
        }
        System.out.printf(Locale.ROOT, "%.0f %d%n", count / ((System.nanoTime() - start) / 1e9), failed);
    }
}
