package dev.slipway.helperclient;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HostsConventions.WriteStrategy;
import dev.slipway.helper.hosts.HostsContent;
import dev.slipway.helper.hosts.HostsFile;

/**
 * Benchmark for bench/helper.sh (not a unit test): helper round trips and hosts updates on a 1 MB
 * file, each next to a baseline in the same run. Prints a Markdown table of min/median/max over runs.
 *
 * <ul>
 * <li>round trip, Slipway: {@code version} through {@link SocketHelperClient} (connect, request,
 * schema check, audit record, reply) per call;
 * <li>round trip, baseline: the same framing against a bare echo server on a Unix socket (no JSON,
 * no checks, no audit), on one connection: the floor of a local socket round trip;
 * <li>hosts update, Slipway: {@code HostsFile.update} (read, block edit, temp file, fsync, attribute
 * copy, inode check, rename, directory fsync) alternating add and remove on a 1 MB file;
 * <li>hosts update, baseline: {@code sed -i} appending one line to the same file (temp file and
 * rename too, but no fsync), including its process start.
 * </ul>
 */
public final class HelperBench {

    private HelperBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path dir = Files.createTempDirectory("slipway-bench");
        String group = Files.readAttributes(dir, PosixFileAttributes.class).group().getName();
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String g) { return Set.of(); }
            @Override public boolean groupExists(String g) { return true; }
            @Override public Optional<Path> homeDirectory(String u) { return Optional.of(dir.resolve("home")); }
        };
        List<double[]> helperRt = new ArrayList<>();
        List<double[]> echoRt = new ArrayList<>();
        List<double[]> hostsUpd = new ArrayList<>();
        List<double[]> sedUpd = new ArrayList<>();
        try (InJvmHelper helper = new InJvmHelper(dir.resolve("helper"), group, Optional.empty(), accounts, InJvmHelper.limits());
                EchoServer echo = new EchoServer(dir.resolve("echo.sock"))) {
            SocketHelperClient client = helper.client();
            Path big = dir.resolve("hosts-1mb");
            Files.write(big, oneMegabyteHosts());
            for (int i = 0; i < 2000; i++) {
                client.call("version", Map.of());
                echo.roundTrip();
            }
            for (int run = 0; run < runs; run++) {
                helperRt.add(percentiles(time(5000, () -> client.call("version", Map.of()))));
                echoRt.add(percentiles(time(5000, echo::roundTrip)));
                HostsFile hosts = new HostsFile(big, WriteStrategy.REPLACE_BY_RENAME);
                boolean[] add = {true};
                hostsUpd.add(percentiles(time(60, () -> {
                    hosts.update(c -> add[0] ? c.withBlock(List.of(dev.slipway.helper.hosts.HostsEntry.of("127.0.0.1",
                            "kubernetes.docker.internal")), "\n") : c.withoutBlock());
                    add[0] = !add[0];
                })));
                Path sedCopy = dir.resolve("hosts-1mb-sed");
                Files.copy(big, sedCopy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                sedUpd.add(percentiles(time(20, () -> {
                    Process p = new ProcessBuilder("sed", "-i", "$a 127.0.0.1 kubernetes.docker.internal", sedCopy.toString()).start();
                    if (p.waitFor() != 0) {
                        throw new IOException("sed failed");
                    }
                })));
            }
            System.out.println("| measurement (" + runs + " runs) | min | median | max |");
            System.out.println("|---|---|---|---|");
            row("helper round trip p50, ms (Slipway, `version`, new connection per call)", helperRt, 0);
            row("helper round trip p99, ms (Slipway)", helperRt, 1);
            row("round trip p99, ms (baseline: bare echo, same framing)", echoRt, 1);
            row("hosts update on 1 MB p50, ms (Slipway, rename + fsync)", hostsUpd, 0);
            row("hosts update on 1 MB max, ms (Slipway)", hostsUpd, 2);
            row("hosts update on 1 MB p50, ms (baseline: `sed -i`, incl. process start)", sedUpd, 0);
            System.out.printf("%nhelper p99 / echo p99 (median run): %.1fx; hosts update Slipway p50 / sed -i p50: %.2fx%n",
                    median(helperRt, 1) / median(echoRt, 1), median(hostsUpd, 0) / median(sedUpd, 0));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    interface Action {
        void run() throws Exception;
    }

    private static double[] time(int n, Action action) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            action.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return ms;
    }

    /** p50, p99, max. */
    private static double[] percentiles(double[] ms) {
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return new double[] {sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.99) - 1], sorted[sorted.length - 1]};
    }

    private static double median(List<double[]> runs, int index) {
        double[] values = runs.stream().mapToDouble(r -> r[index]).sorted().toArray();
        return values[values.length / 2];
    }

    private static void row(String name, List<double[]> runs, int index) {
        double[] values = runs.stream().mapToDouble(r -> r[index]).sorted().toArray();
        System.out.printf("| %s | %.3f | %.3f | %.3f |%n", name, values[0], values[values.length / 2], values[values.length - 1]);
    }

    static byte[] oneMegabyteHosts() {
        StringBuilder out = new StringBuilder("127.0.0.1 localhost\n::1 localhost\n");
        int i = 0;
        while (out.length() < 1024 * 1024) {
            out.append("10.").append((i >> 16) & 255).append('.').append((i >> 8) & 255).append('.').append(i & 255)
                    .append(" blocked-").append(i).append(".ads.example # ad block list entry\n");
            i++;
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The baseline: reads one frame, writes it back, on one thread and one connection. */
    private static final class EchoServer implements AutoCloseable {
        private final ServerSocketChannel server;
        private final SocketChannel client;
        private final Thread thread;
        private final ByteBuffer request = ByteBuffer.wrap(frame("{\"v\":1,\"id\":1,\"op\":\"version\"}"));
        private final ByteBuffer reply = ByteBuffer.allocate(64 * 1024);

        EchoServer(Path socket) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            thread = new Thread(() -> {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer header = ByteBuffer.allocate(4);
                    while (true) {
                        header.clear();
                        if (!fill(c, header)) {
                            return;
                        }
                        ByteBuffer body = ByteBuffer.allocate(header.getInt(0));
                        fill(c, body);
                        header.flip();
                        body.flip();
                        c.write(new ByteBuffer[] {header, body});
                    }
                } catch (IOException e) {
                    // closed at the end of the benchmark
                }
            }, "echo");
            thread.setDaemon(true);
            thread.start();
            client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        }

        void roundTrip() throws IOException {
            request.rewind();
            while (request.hasRemaining()) {
                client.write(request);
            }
            reply.clear().limit(request.capacity());
            fill(client, reply);
        }

        private static boolean fill(SocketChannel c, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (c.read(b) < 0) {
                    return false;
                }
            }
            return true;
        }

        private static byte[] frame(String json) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
        }
    }
}
