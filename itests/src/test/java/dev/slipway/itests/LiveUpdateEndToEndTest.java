package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.slipway.testing.FreePorts;
import dev.slipway.testing.Prerequisites;

/**
 * Live updates of networking and dns in a running runtime on its embedded guest namespace (root):
 * DNS at 1,000 queries/s to the gateway and to {@code --dns-listen} loses nothing, a UDP flow goes
 * on, open guest TCP connections (idle ones, and iperf3 both ways through published ports) go on
 * through the update with every byte, a version that cannot start is rolled back with the
 * connections intact, and repeated updates leak nothing.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LiveUpdateEndToEndTest {

    private static final String NETNS = "slw-upd-" + ProcessHandle.current().pid();

    @TempDir
    Path home;

    private final Path root = Path.of(System.getProperty("slipway.root", "..")).toAbsolutePath().normalize();
    private final Path load = root.resolve("bench/update_load.py");
    private ServerSocket echo;
    private DatagramSocket udpEcho;
    private final List<Thread> servers = new ArrayList<>();
    private int dnsPort;

    @BeforeEach
    void upWithLoad() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "python3");
        dnsPort = FreePorts.udpAndTcp();
        SlipwayCommand.Run up = slipway("up", "-d", "--netns", NETNS, "--dns-listen", "127.0.0.1:" + dnsPort);
        assertEquals(0, up.exitCode(), up.out() + up.err());
        echo = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptEcho, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        udpEcho = new DatagramSocket(echo.getLocalPort(), InetAddress.getLoopbackAddress());
        Thread udp = new Thread(this::udpEcho, "udp-echo");
        udp.setDaemon(true);
        udp.start();
        servers.add(acceptor);
        servers.add(udp);
    }

    @AfterEach
    void down() throws Exception {
        slipway("down");
        if (echo != null) {
            echo.close();
        }
        if (udpEcho != null) {
            udpEcho.close();
        }
        if (Files.exists(Path.of("/run/netns", NETNS))) {
            new ProcessBuilder("ip", "netns", "del", NETNS).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void updatesOfDnsAndNetworkingUnderLoad() throws Exception {
        Process gatewayDns = guest(load.toString(), "dns", "192.168.65.1", "53", "1000", "12");
        Process listenDns = new ProcessBuilder("python3", load.toString(), "dns", "127.0.0.1", Integer.toString(dnsPort), "1000", "12").start();
        Process udpFlow = guest(load.toString(), "udp", "192.168.65.254", Integer.toString(echo.getLocalPort()), "12");
        Path go = home.resolve("go");
        Process idle = guest("-c", IDLE_CONNECTIONS, Integer.toString(echo.getLocalPort()), "100", go.toString());
        Thread.sleep(2000);
        deploy("dev.slipway.dns", "0.3.1");
        Thread.sleep(3000);
        deploy("dev.slipway.networking.stack", "0.3.1");
        Thread.sleep(1000);
        Files.writeString(go, "go");

        JsonObject gateway = lastJson(gatewayDns);
        JsonObject listen = lastJson(listenDns);
        JsonObject udp = lastJson(udpFlow);
        JsonObject connections = lastJson(idle);
        assertEquals(0, gateway.get("lost").getAsInt(), "queries to the gateway lost across the updates: " + gateway);
        assertEquals(0, listen.get("lost").getAsInt(), "queries to --dns-listen lost across the updates: " + listen);
        // the flow's host socket goes to the new version with the replies waiting in it
        assertEquals(udp.get("sent").getAsInt() - 1, udp.get("lastEchoed").getAsInt(), "the UDP flow goes on: " + udp);
        assertEquals(udp.get("sent").getAsInt(), udp.get("echoed").getAsInt(), "the UDP flow goes on: " + udp);
        assertEquals(100, connections.get("opened").getAsInt(), connections.toString());
        assertEquals(100, connections.get("echoed").getAsInt(), "every idle connection still echoes: " + connections);
        assertEquals(1, connections.get("newWorks").getAsInt(), "a new connection works: " + connections);

        JsonObject updates = status().getAsJsonObject("deploy").getAsJsonObject("updates");
        for (String name : List.of("dev.slipway.dns", "dev.slipway.networking.stack")) {
            JsonObject update = updates.getAsJsonObject(name);
            assertEquals("updated", update.get("result").getAsString(), update.toString());
            assertEquals("handed over", update.get("state").getAsString(), update.toString());
            assertEquals("0.3.1", update.get("to").getAsString());
        }
        String handedOver = updates.getAsJsonObject("dev.slipway.networking.stack").get("handedOver").toString();
        assertTrue(handedOver.contains("link tap"), handedOver);
        assertTrue(handedOver.contains("TCP connections"), handedOver);
    }

    /**
     * iperf3 through published ports, host to guest and guest to host (-R), and transfers of a known
     * size both ways through a published port, running across an update of networking, beside 100
     * idle echo connections and a UDP flow from the guest: the transfers finish with every byte
     * (iperf3 counts what its receiver read until the test's end, so its own two counts differ by
     * what was in flight; the sized transfers are counted exactly), every idle connection echoes
     * after the update, the flow goes on. The longest gap in iperf3's delivered bytes (0.1 s
     * intervals) is printed.
     */
    @Test
    void transfersThroughPublishedPortsIdleConnectionsAndAUdpFlowGoOnAcrossANetworkingUpdate() throws Exception {
        Prerequisites.assumeCommands("iperf3");
        String guestIp = status().getAsJsonObject("guest").get("address").getAsString();
        List<Process> servers = new ArrayList<>();
        List<Integer> published = new ArrayList<>();
        servers.add(guest("-c", SIZED_TRANSFERS, "5203"));
        for (int guestPort : new int[] {5201, 5202, 5203}) {
            if (guestPort != 5203) {
                servers.add(new ProcessBuilder("ip", "netns", "exec", NETNS, "iperf3", "-s", "-1", "-p", Integer.toString(guestPort))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start());
            }
            int hostPort;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                hostPort = probe.getLocalPort();
            }
            SlipwayCommand.Run expose = slipway("expose", "tcp", "127.0.0.1:" + hostPort, guestIp + ":" + guestPort);
            assertEquals(0, expose.exitCode(), expose.out() + expose.err());
            published.add(hostPort);
        }
        Path go = home.resolve("go");
        Process idle = guest("-c", IDLE_CONNECTIONS, Integer.toString(echo.getLocalPort()), "100", go.toString());
        Process udpFlow = guest(load.toString(), "udp", "192.168.65.254", Integer.toString(echo.getLocalPort()), "10");
        Thread.sleep(1500);
        Process toGuest = new ProcessBuilder("iperf3", "-c", "127.0.0.1", "-p", published.get(0).toString(), "-t", "8", "-i", "0.1", "-J")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Process fromGuest = new ProcessBuilder("iperf3", "-c", "127.0.0.1", "-p", published.get(1).toString(), "-t", "8", "-i", "0.1", "-J", "-R")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        java.util.concurrent.CompletableFuture<Long> sizedToGuest = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> sizedTransfer(published.get(2), "recv"));
        java.util.concurrent.CompletableFuture<Long> sizedFromGuest = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> sizedTransfer(published.get(2), "send"));
        Thread.sleep(3000);
        assertTrue(!sizedToGuest.isDone() && !sizedFromGuest.isDone(), "the sized transfers still run when the update starts");
        deploy("dev.slipway.networking.stack", "0.5.1");
        Thread.sleep(1000);
        Files.writeString(go, "go");
        assertEquals(SIZED_BYTES, sizedToGuest.get(2, TimeUnit.MINUTES), "host to guest: the guest read every byte");
        assertEquals(SIZED_BYTES, sizedFromGuest.get(2, TimeUnit.MINUTES), "guest to host: the host read every byte");

        for (Process iperf : List.of(toGuest, fromGuest)) {
            assertTrue(iperf.waitFor(2, TimeUnit.MINUTES), "iperf3 finished");
            JsonObject result = JsonParser.parseString(new String(iperf.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .getAsJsonObject();
            assertTrue(!result.has("error"), "iperf3 failed: " + result.get("error"));
            JsonObject end = result.getAsJsonObject("end");
            long sent = end.getAsJsonObject("sum_sent").get("bytes").getAsLong();
            long received = end.getAsJsonObject("sum_received").get("bytes").getAsLong();
            String direction = iperf == toGuest ? "host to guest" : "guest to host";
            assertTrue(sent > 0 && received > 0, direction + ": nothing sent " + sent + " or received " + received);
            System.out.printf("iperf3 %s across a networking update: %d bytes, longest gap %.1f s%n", direction, received,
                    longestGapSeconds(result));
        }
        for (Process server : servers) {
            server.waitFor(30, TimeUnit.SECONDS);
            server.destroy();
        }
        JsonObject connections = lastJson(idle);
        assertEquals(100, connections.get("echoed").getAsInt(), "every idle connection still echoes: " + connections);
        assertEquals(1, connections.get("newWorks").getAsInt(), "a new connection works: " + connections);
        JsonObject udp = lastJson(udpFlow);
        assertEquals(udp.get("sent").getAsInt(), udp.get("echoed").getAsInt(), "the UDP flow goes on: " + udp);
        JsonObject update = status().getAsJsonObject("deploy").getAsJsonObject("updates").getAsJsonObject("dev.slipway.networking.stack");
        assertEquals("handed over", update.get("state").getAsString(), update.toString());
    }

    /** How many bytes each sized transfer carries: enough to last several seconds at full speed. */
    private static final long SIZED_BYTES = 3L << 30;

    /**
     * A server in the guest: a connection starting with {@code recv N\n} gets its next N bytes
     * counted and the count written back; one starting with {@code send N\n} gets N bytes and the end.
     */
    private static final String SIZED_TRANSFERS = """
            import socket, sys, threading
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("0.0.0.0", int(sys.argv[1]))); server.listen(4); server.settimeout(120)
            def serve(c):
                f = c.makefile("rb"); verb, n = f.readline().split(); n = int(n)
                if verb == b"recv":
                    got = 0
                    while got < n:
                        b = f.read1(1 << 20)
                        if not b: break
                        got += len(b)
                    c.sendall(b"%d\\n" % got)
                else:
                    block = b"x" * (1 << 20); left = n
                    while left > 0:
                        c.sendall(block[:min(left, len(block))]); left -= min(left, len(block))
                c.close()
            threads = []
            for _ in range(2):
                c, _ = server.accept(); t = threading.Thread(target=serve, args=(c,)); t.start(); threads.append(t)
            for t in threads: t.join()
            """;

    /** One sized transfer through the published port: {@code recv} sends the guest the bytes, {@code send} has it send them. */
    private static long sizedTransfer(int port, String verb) {
        try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            c.write(java.nio.ByteBuffer.wrap((verb + " " + SIZED_BYTES + "\n").getBytes(StandardCharsets.US_ASCII)));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(1 << 20);
            if (verb.equals("recv")) {
                for (long left = SIZED_BYTES; left > 0; ) {
                    b.clear().limit((int) Math.min(b.capacity(), left));
                    left -= c.write(b);
                }
                c.shutdownOutput();
                java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
                while (c.read(b.clear()) > 0) {
                    b.flip();
                    while (b.hasRemaining()) {
                        answer.write(b.get());
                    }
                }
                return Long.parseLong(answer.toString(StandardCharsets.US_ASCII).strip());
            }
            long got = 0;
            for (int n; (n = c.read(b.clear())) >= 0; ) {
                got += n;
            }
            return got;
        } catch (IOException | NumberFormatException e) {
            throw new java.io.UncheckedIOException(new IOException(verb + " transfer failed", e));
        }
    }

    /** The longest run of iperf3's intervals in which no byte was delivered, in seconds. */
    private static double longestGapSeconds(JsonObject result) {
        double longest = 0;
        double current = 0;
        for (var interval : result.getAsJsonArray("intervals")) {
            JsonObject sum = interval.getAsJsonObject().getAsJsonObject("sum");
            if (sum.get("bytes").getAsLong() == 0) {
                current += sum.get("seconds").getAsDouble();
                longest = Math.max(longest, current);
            } else {
                current = 0;
            }
        }
        return longest;
    }

    @Test
    void aVersionThatCannotStartIsRolledBackWithTheConnectionsIntact() throws Exception {
        Path go = home.resolve("go");
        Process idle = guest("-c", IDLE_CONNECTIONS, Integer.toString(echo.getLocalPort()), "20", go.toString());
        Thread.sleep(2000);
        Path jar = NewerBundle.withVersion(NewerBundle.distJar("dev.slipway.networking.stack"), "0.3.2", home.resolve("unstartable.jar"));
        requireMissingPackage(jar);
        // the CLI reports that the deployed version did not become active; what happened is in status
        slipway("deploy", jar.toString());
        JsonObject update = awaitUpdate("dev.slipway.networking.stack");
        assertTrue(update.get("result").getAsString().startsWith("rolled back"), update.toString());
        Files.writeString(go, "go");
        JsonObject connections = lastJson(idle);
        assertEquals(20, connections.get("echoed").getAsInt(), "the old version kept every connection: " + connections);
        try (var failed = Files.list(home.resolve("deploy-failed"))) {
            assertTrue(failed.anyMatch(p -> p.toString().endsWith(".jar")), "the failed jar left deploy/ for deploy-failed/");
        }
    }

    @Test
    void newConnectionsAndDatagramsToPublishedPortsDuringANetworkingUpdateWaitAndAreCarried() throws Exception {
        String guestIp = status().getAsJsonObject("guest").get("address").getAsString();
        Process server = guest("-c", GUEST_ECHO, "5301", "60");
        int tcpPort;
        int udpPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             DatagramSocket udpProbe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            tcpPort = probe.getLocalPort();
            udpPort = udpProbe.getLocalPort();
        }
        for (String[] publish : new String[][] {{"tcp", "127.0.0.1:" + tcpPort}, {"udp", "127.0.0.1:" + udpPort}}) {
            SlipwayCommand.Run expose = slipway("expose", publish[0], publish[1], guestIp + ":5301");
            assertEquals(0, expose.exitCode(), expose.out() + expose.err());
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!connectAndEcho(tcpPort)) {
            assertTrue(System.nanoTime() < until, "the guest's echo server answers through the published port");
            Thread.sleep(100);
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        // a new connection every 10 ms, each echoing a byte; a datagram every 10 ms, each waiting for its echo
        java.util.concurrent.CompletableFuture<int[]> connections = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int made = 0;
            int failed = 0;
            for (int i = 0; i < 3000 && !stop.get(); i++) {
                made++;
                failed += connectAndEcho(tcpPort) ? 0 : 1;
                sleep(10);
            }
            return new int[] {made, failed};
        });
        java.util.concurrent.CompletableFuture<int[]> datagrams = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int sent = 0;
            int echoed = 0;
            try (DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                client.setSoTimeout(3000);
                byte[] answer = new byte[64];
                for (int i = 0; i < 3000 && !stop.get(); i++) {
                    byte[] data = ("d" + i).getBytes(StandardCharsets.US_ASCII);
                    client.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), udpPort));
                    sent++;
                    try {
                        while (true) {
                            DatagramPacket p = new DatagramPacket(answer, answer.length);
                            client.receive(p);
                            if (new String(answer, 0, p.getLength(), StandardCharsets.US_ASCII).equals("d" + i)) {
                                echoed++;
                                break;
                            }
                        }
                    } catch (java.net.SocketTimeoutException e) {
                        // lost: counted
                    }
                    sleep(10);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return new int[] {sent, echoed};
        });
        Thread.sleep(1500);
        deploy("dev.slipway.networking.stack", "0.6.1");
        Thread.sleep(1500);
        stop.set(true);
        int[] tcp = connections.get(2, TimeUnit.MINUTES);
        int[] udp = datagrams.get(2, TimeUnit.MINUTES);
        JsonObject ports = status().getAsJsonObject("ports");
        System.out.printf("published ports across a networking update: %d new connections, %d failed; %d datagrams, %d echoed; %s%n",
                tcp[0], tcp[1], udp[0], udp[1], ports);
        assertEquals(0, tcp[1], "every new connection made during the update was carried (" + tcp[0] + " made)");
        assertEquals(0, ports.get("closedWithoutNetwork").getAsInt(), "no connection closed for want of a stack: " + ports);
        // the published UDP port's flow into the guest is handed on, so an echo on its way back at the swap arrives too
        assertEquals(udp[0], udp[1], "datagrams during the update wait and are carried, their echoes too");
        server.destroy();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A new connection to the published port that echoes one byte within 5 s. */
    private static boolean connectAndEcho(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write('e');
            return s.getInputStream().read() == 'e';
        } catch (IOException e) {
            return false;
        }
    }

    /** A TCP and UDP echo server in the guest on one port, for a number of seconds. */
    private static final String GUEST_ECHO = """
            import socket, sys, threading, time
            port, seconds = int(sys.argv[1]), int(sys.argv[2])
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("0.0.0.0", port)); server.listen(128)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("0.0.0.0", port))
            def echo(c):
                with c:
                    while True:
                        b = c.recv(4096)
                        if not b: return
                        c.sendall(b)
            def tcp():
                while True:
                    c, _ = server.accept(); threading.Thread(target=echo, args=(c,), daemon=True).start()
            def datagrams():
                while True:
                    b, a = udp.recvfrom(2048); udp.sendto(b, a)
            threading.Thread(target=tcp, daemon=True).start()
            threading.Thread(target=datagrams, daemon=True).start()
            time.sleep(seconds)
            """;

    @Test
    void repeatedUpdatesLeakNothing() throws Exception {
        long pid = status().get("pid").getAsLong();
        deploy("dev.slipway.networking.stack", "0.4.0");
        deploy("dev.slipway.dns", "0.4.0");
        int fdsBefore = count("/proc/" + pid + "/fd");
        int threadsBefore = count("/proc/" + pid + "/task");
        for (int i = 1; i <= 5; i++) {
            deploy("dev.slipway.networking.stack", "0.4." + i);
            deploy("dev.slipway.dns", "0.4." + i);
        }
        Thread.sleep(2000);
        int fds = count("/proc/" + pid + "/fd");
        int threads = count("/proc/" + pid + "/task");
        assertTrue(fds <= fdsBefore + 8, "descriptors " + fdsBefore + " -> " + fds);
        assertTrue(threads <= threadsBefore + 4, "threads " + threadsBefore + " -> " + threads);
        assertTrue(status().get("ready").getAsBoolean());
    }

    /** Opens N idle echo connections from the guest, echoes once, waits for a file, echoes again; prints what happened. */
    private static final String IDLE_CONNECTIONS = """
            import json, os, socket, sys, time
            port, n, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
            conns = []
            for i in range(n):
                c = socket.create_connection(("192.168.65.254", port), timeout=5); c.sendall(b"x"); c.recv(1); conns.append(c)
            until = time.time() + 120
            while not os.path.exists(go) and time.time() < until: time.sleep(0.05)
            echoed = reset = 0; slowest = 0.0
            for c in conns:
                t = time.time()
                try:
                    c.settimeout(5); c.sendall(b"y"); echoed += 1 if c.recv(1) == b"y" else 0
                except (ConnectionResetError, BrokenPipeError, socket.timeout, OSError):
                    reset += 1
                slowest = max(slowest, time.time() - t)
            new = 0
            try:
                c = socket.create_connection(("192.168.65.254", port), timeout=5); c.sendall(b"z"); new = 1 if c.recv(1) == b"z" else 0
            except OSError:
                pass
            print(json.dumps({"opened": n, "echoed": echoed, "reset": reset, "slowestMs": slowest * 1000, "newWorks": new}))
            """;

    private Process guest(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", NETNS, "python3"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static JsonObject lastJson(Process process) throws Exception {
        assertTrue(process.waitFor(3, TimeUnit.MINUTES), "the load finished");
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return JsonParser.parseString(out.substring(out.lastIndexOf('\n') + 1)).getAsJsonObject();
    }

    private void deploy(String symbolicName, String version) throws Exception {
        Path jar = NewerBundle.withVersion(NewerBundle.distJar(symbolicName), version, home.resolve(symbolicName + "-" + version + ".jar"));
        SlipwayCommand.Run run = slipway("deploy", jar.toString());
        assertEquals(0, run.exitCode(), run.out() + run.err());
        JsonObject update = awaitUpdate(symbolicName);
        assertEquals(version, update.get("to").getAsString(), update.toString());
    }

    private JsonObject awaitUpdate(String symbolicName) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            JsonObject deploy = status().getAsJsonObject("deploy");
            if (deploy != null && deploy.getAsJsonObject("updates").has(symbolicName)) {
                JsonObject update = deploy.getAsJsonObject("updates").getAsJsonObject(symbolicName);
                if (!update.get("result").getAsString().isEmpty()) {
                    return update;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no update of " + symbolicName + " recorded");
    }

    /** A manifest that imports a package nothing exports: the bundle cannot resolve. */
    private static void requireMissingPackage(Path jar) throws IOException {
        Path copy = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (JarFile in = new JarFile(jar.toFile()); OutputStream file = Files.newOutputStream(copy)) {
            Manifest manifest = new Manifest(in.getManifest());
            Attributes main = manifest.getMainAttributes();
            main.putValue("Import-Package", main.getValue("Import-Package") + ",dev.slipway.nowhere;version=\"[1,2)\"");
            try (JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (var entries = in.entries(); entries.hasMoreElements(); ) {
                    var entry = entries.nextElement();
                    if (entry.getName().equals("META-INF/MANIFEST.MF") || entry.getName().equals("META-INF/")) {
                        continue;
                    }
                    out.putNextEntry(new java.util.jar.JarEntry(entry.getName()));
                    try (InputStream content = in.getInputStream(entry)) {
                        content.transferTo(out);
                    }
                    out.closeEntry();
                }
            }
        }
        Files.move(copy, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static int count(String dir) throws IOException {
        try (var files = Files.list(Path.of(dir))) {
            return (int) files.count();
        }
    }

    private JsonObject status() throws Exception {
        return new SlipwayCommand(home).status();
    }

    private void acceptEcho() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread t = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException e) {
                        // the guest reset it
                    }
                });
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void udpEcho() {
        byte[] buffer = new byte[2048];
        while (!udpEcho.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buffer, buffer.length);
                udpEcho.receive(p);
                udpEcho.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    private SlipwayCommand.Run slipway(String... args) throws IOException, InterruptedException {
        return new SlipwayCommand(home).run(args);
    }
}
