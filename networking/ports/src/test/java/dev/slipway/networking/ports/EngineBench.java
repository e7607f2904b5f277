package dev.slipway.networking.ports;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import dev.slipway.testing.Commands;

/**
 * bench/engine.sh: one engine guest booted through the helper's VM manager, then, in the same run,
 * the same work through Slipway and inside the guest:
 * <ul>
 * <li>VM start to engine ready (the accelerator {@code auto} picks);</li>
 * <li>{@code docker run --rm IMAGE true}: the host's docker CLI through Slipway's docker.sock and the
 * engine channel, against the guest's own docker CLI on the engine's socket (the guest's half runs
 * first, from its init, so the two never overlap);</li>
 * <li>downloading 64 MiB from a container's published port: from the host through the port Slipway
 * published by itself, against the guest downloading it through docker-proxy on its loopback; and
 * the guest downloading it from the container's bridge address (no docker-proxy, no NAT);</li>
 * <li>two references for the VM's link itself: 64 MiB downloaded from the host through a port
 * published by hand to a web server on the guest's own network (Slipway opens the connection, no
 * NAT), and 64 MiB the container sends to a receiver on the host (the guest opens, through its
 * NAT), timed by the receiver.</li>
 * </ul>
 * Usage: EngineBench RUNS
 */
public final class EngineBench {

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int port = freePort();
        int port2 = freePort();
        ServerSocket sink = new ServerSocket();
        sink.bind(new InetSocketAddress("127.0.0.1", 0));
        List<Double> sinkRates = Collections.synchronizedList(new ArrayList<>());
        Thread receiver = new Thread(() -> receive(sink, runs, sinkRates), "bench-sink");
        receiver.setDaemon(true);
        receiver.start();
        try (sink; EngineLab lab = new EngineLab("slipway.script=bench slipway.runs=" + runs + " slipway.port=" + port
                + " slipway.port2=" + port2 + " slipway.sink=" + sink.getLocalPort())) {
            double ready = lab.bootUntilReady(Duration.ofMinutes(10));
            Map<String, Object> status = lab.vm.status();
            String guestReady = GuestLines.after(lab.vm.console(), "SLIPWAY-ENGINE-READY ");
            System.out.printf("vm start to engine ready: %.1f s (guest uptime at ready %s s; accelerator %s)%n", ready,
                    guestReady, status.get("accelerator"));
            if (!lab.vm.awaitConsole("SLIPWAY-BENCH-DONE", Duration.ofMinutes(20))) {
                throw new IllegalStateException("the guest's half did not finish:\n" + lab.vm.console());
            }
            List<Double> guestRun = GuestLines.values(lab.vm.console(), "SLIPWAY-BENCH run-true-ms ");
            List<Double> guestDownload = GuestLines.values(lab.vm.console(), "SLIPWAY-BENCH docker-proxy-ms ");
            List<Double> bridgeDownload = GuestLines.values(lab.vm.console(), "SLIPWAY-BENCH bridge-ms ");

            List<Double> hostRun = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                long s = System.nanoTime();
                Commands.Out out = lab.docker(Duration.ofMinutes(5), "run", "--rm", EngineLab.IMAGE, "true");
                if (out.exit() != 0) {
                    throw new IllegalStateException("docker run failed: " + out.stderr());
                }
                hostRun.add((System.nanoTime() - s) / 1e6);
            }

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI big = URI.create("http://127.0.0.1:" + port + "/big");
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (lab.docker.enginePorts().published().stream().noneMatch(p -> p.local().equals("127.0.0.1:" + port))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("port " + port + " was not published");
                }
                Thread.sleep(200);
            }
            List<Double> hostDownload = downloads(http, big, runs);
            String guestIp = GuestLines.after(lab.vm.console(), "SLIPWAY-LEASE ip=").split(" ")[0];
            lab.forwarder.expose(new PublishedPort(PublishedPort.TCP, "127.0.0.1:" + port2, guestIp + ":" + port2), false);
            List<Double> guestNetworkDownload = downloads(http, URI.create("http://127.0.0.1:" + port2 + "/big"), runs);
            receiver.join(Duration.ofMinutes(1).toMillis());
            System.out.println();
            System.out.println("| measure (" + runs + " runs) | Slipway: min / median / max | in the guest: min / median / max | Slipway / guest (median) |");
            System.out.println("|---|---|---|---|");
            row("`docker run --rm IMAGE true` (ms)", hostRun, guestRun);
            row("64 MiB from a published port (MB/s)", rate(hostDownload), rate(guestDownload));
            System.out.println();
            System.out.println("64 MiB inside the guest straight from the container's bridge address (no docker-proxy, no NAT, MB/s): "
                    + triple(rate(bridgeDownload)));
            System.out.println("64 MiB from the host through a port published by hand to the guest's own network (no NAT, MB/s): "
                    + triple(rate(guestNetworkDownload)));
            System.out.println("64 MiB from the container to a receiver on the host (the guest opens, through its NAT, MB/s): "
                    + (sinkRates.isEmpty() ? "none arrived" : triple(sinkRates)));
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Downloads {@code uri} {@code runs} times, each to its end; the milliseconds each took. */
    static List<Double> downloads(HttpClient http, URI uri, int runs) throws Exception {
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            long s = System.nanoTime();
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            byte[] buf = new byte[1 << 16];
            long bytes = 0;
            try (InputStream in = r.body()) {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    bytes += n;
                }
            }
            millis.add((System.nanoTime() - s) / 1e6);
            if (bytes != 64L << 20) {
                throw new IllegalStateException("downloaded " + bytes + " bytes from " + uri + ", not 64 MiB");
            }
        }
        return millis;
    }

    /** Accepts {@code runs} connections, each timed from its first byte to its end, as MB/s of 64 MiB. */
    private static void receive(ServerSocket sink, int runs, List<Double> rates) {
        byte[] buf = new byte[1 << 16];
        try {
            sink.setSoTimeout((int) Duration.ofMinutes(20).toMillis());
            for (int i = 0; i < runs; i++) {
                try (java.net.Socket c = sink.accept(); InputStream in = c.getInputStream()) {
                    long bytes = 0;
                    long first = 0;
                    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                        if (bytes == 0) {
                            first = System.nanoTime();
                        }
                        bytes += n;
                    }
                    if (bytes == 64L << 20) {
                        rates.add(bytes / 1e6 / ((System.nanoTime() - first) / 1e9));
                    }
                }
            }
        } catch (java.io.IOException e) {
            System.err.println("the bench's receiver stopped: " + e);
        }
    }

    static List<Double> rate(List<Double> millis) {
        List<Double> r = new ArrayList<>();
        for (double ms : millis) {
            r.add((64.0 * 1024 * 1024 / 1e6) / (ms / 1000.0));
        }
        return r;
    }

    static void row(String what, List<Double> slipway, List<Double> guest) {
        System.out.printf("| %s | %s | %s | %.2fx |%n", what, triple(slipway), triple(guest), median(slipway) / median(guest));
    }

    static String triple(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return String.format("%.0f / %.0f / %.0f", s.get(0), median(s), s.get(s.size() - 1));
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Numbers the guest printed on its console. */
    static final class GuestLines {
        static List<Double> values(String console, String prefix) {
            List<Double> v = new ArrayList<>();
            for (String line : console.lines().toList()) {
                if (line.startsWith(prefix)) {
                    v.add(Double.parseDouble(line.substring(prefix.length()).trim()));
                }
            }
            if (v.isEmpty()) {
                throw new IllegalStateException("the guest printed no '" + prefix.trim() + "':\n" + console);
            }
            return v;
        }

        static String after(String console, String prefix) {
            return console.lines().filter(l -> l.startsWith(prefix)).findFirst().map(l -> l.substring(prefix.length()).trim())
                    .orElse("?");
        }
    }
}
