package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.helper.vm.EngineVm;
import dev.slipway.testing.Commands;
import dev.slipway.testing.GuestImage;
import dev.slipway.testing.Prerequisites;

/**
 * The real engine in Slipway's VM, driven from the host with the real docker CLI: the guest image
 * built by {@code guest/build-engine-image.sh}, booted once for the class by the helper's VM manager
 * (QEMU as {@code nobody}, TCG unless KVM works), its only network Slipway's stack and DNS in this
 * JVM, its engine reached through the engine channel, its ports published by {@link EnginePorts}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 480)
class EngineGuestRootTest {
    static final String IMAGE = EngineLab.IMAGE;
    static final Duration BOOT = Duration.ofSeconds(600);
    static final Duration DOCKER = Duration.ofSeconds(120);

    EngineLab lab;
    EngineVm vm;
    PortForwarder forwarder;
    DockerIntegration docker;
    HttpServer http;

    @BeforeAll
    @Timeout(value = 900)
    void boot() throws Exception {
        Prerequisites.assumeRoot("the helper's VM manager runs QEMU as another account");
        GuestImage.assumeAvailable();
        Prerequisites.assumeCommands("docker");
        lab = new EngineLab("");
        vm = lab.vm;
        forwarder = lab.forwarder;
        docker = lab.docker;
        http = lab.http;
        try {
            lab.bootUntilReady(BOOT);
        } catch (Exception | AssertionError e) {
            stop();
            throw e;
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (lab != null) {
            lab.close();
            lab = null;
        }
    }

    Commands.Out docker(String... args) throws Exception {
        return lab.docker(DOCKER, args);
    }

    Commands.Out dockerOk(String... args) throws Exception {
        Commands.Out out = docker(args);
        assertEquals(0, out.exit(), () -> "docker " + String.join(" ", args) + ": " + out.stderr() + out.stdout());
        return out;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(200);
        }
        fail("timed out waiting for " + what);
    }

    /** The host ports the engine's running containers bind, as {@code docker ps} shows them. */
    Set<Integer> runningHostPorts() throws Exception {
        Set<Integer> ports = new TreeSet<>();
        for (String line : dockerOk("ps", "--format", "{{.Ports}}").stdout().lines().toList()) {
            for (String binding : line.split(",")) {
                int arrow = binding.indexOf("->");
                int colon = binding.lastIndexOf(':', arrow < 0 ? binding.length() : arrow);
                if (arrow > 0 && colon >= 0) {
                    ports.add(Integer.parseInt(binding.substring(colon + 1, arrow).trim()));
                }
            }
        }
        return ports;
    }

    Set<Integer> publishedByEngine() {
        Set<Integer> ports = new TreeSet<>();
        for (PublishedPort p : docker.enginePorts().published()) {
            ports.add(p.localAddress().getPort());
        }
        return ports;
    }

    /** Ports end up as the running containers bind them, less {@code conflicting}. */
    void awaitMatching(Set<Integer> conflicting) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Set<Integer> wanted = Set.of();
        while (System.nanoTime() < deadline) {
            wanted = runningHostPorts();
            wanted.removeAll(conflicting);
            if (wanted.equals(publishedByEngine())) {
                return;
            }
            Thread.sleep(500);
        }
        assertEquals(wanted, publishedByEngine(), "published ports against the running containers' bindings");
    }

    static String get(int port) throws Exception {
        return get("127.0.0.1", port);
    }

    static String get(String host, int port) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/")).timeout(Duration.ofSeconds(20))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static boolean listening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The container's page from the host's {@code host:port}, tried for a while (the server may still be starting). */
    static String page(String host, int port) throws Exception {
        await(host + ":" + port + " published", Duration.ofSeconds(60), () -> listening(host, port));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String page = "";
        while (System.nanoTime() < deadline && !page.contains("hello from a Slipway container")) {
            try {
                page = get(host, port);
            } catch (IOException e) {
                Thread.sleep(300);
            }
        }
        return page;
    }

    /** The host port the engine bound for the container's {@code privatePort}, as {@code docker port} shows it. */
    int enginePort(String id, String privatePort) throws Exception {
        String line = dockerOk("port", id, privatePort).stdout().strip().lines().findFirst().orElseThrow();
        return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
    }

    @Test
    @Order(1)
    void versionShowsTheRealEngine() throws Exception {
        Commands.Out out = dockerOk("version", "--format", "{{.Server.Version}} {{.Server.Os}}");
        assertTrue(out.stdout().startsWith("20.10"), out.stdout());
        assertTrue(out.stdout().contains("linux"), out.stdout());
    }

    @Test
    @Order(2)
    void runPrintsHello() throws Exception {
        assertEquals("hello", dockerOk("run", "--rm", IMAGE, "echo", "hello").stdout().strip());
    }

    @Test
    @Order(3)
    void publishedPortServesThePageUntilTheContainerStops() throws Exception {
        int port = freePort();
        String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
        try {
            await("port " + port + " published", Duration.ofSeconds(60), () -> listening(port));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String page = "";
            while (System.nanoTime() < deadline && !page.contains("hello from a Slipway container")) {
                try {
                    page = get(port);
                } catch (IOException e) {
                    Thread.sleep(300);
                }
            }
            assertEquals("hello from a Slipway container\n", page);
            assertTrue(PortCommands.list(forwarder).out().contains("127.0.0.1:" + port));
        } finally {
            dockerOk("stop", "-t", "1", id);
            dockerOk("rm", id);
        }
        await("port " + port + " closed", Duration.ofSeconds(60), () -> !listening(port));
    }

    @Test
    @Order(4)
    void aLoopbackBindingServesThePageOnTheHostsLoopbackUntilTheContainerStops() throws Exception {
        // -p 127.0.0.1:PORT:80, the usual "only on this machine": the engine takes the guest's own
        // 127.0.0.1 only, so Slipway goes to the container's address through the guest
        int port = freePort();
        String id = dockerOk("run", "-d", "-p", "127.0.0.1:" + port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www")
                .stdout().strip();
        String chosen = null;
        try {
            assertEquals("hello from a Slipway container\n", page("127.0.0.1", port));
            String listed = PortCommands.list(forwarder).out();
            assertTrue(listed.contains("127.0.0.1:" + port) && listed.contains(":80 via "), listed);
            // -p 127.0.0.1::80: the engine chooses the host port, and the host gets the same one
            chosen = dockerOk("run", "-d", "-p", "127.0.0.1::80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www")
                    .stdout().strip();
            int chosenPort = enginePort(chosen, "80/tcp");
            assertEquals("hello from a Slipway container\n", page("127.0.0.1", chosenPort));
            dockerOk("stop", "-t", "1", chosen);
            await("port " + chosenPort + " closed", Duration.ofSeconds(60), () -> !listening(chosenPort));
        } finally {
            dockerOk("stop", "-t", "1", id);
            dockerOk("rm", "-f", id);
            if (chosen != null) {
                dockerOk("rm", "-f", chosen);
            }
        }
        await("port " + port + " closed", Duration.ofSeconds(60), () -> !listening(port));
        awaitMatching(Set.of());
    }

    @Test
    @Order(5)
    void loopbackBindingsOnAUserDefinedNetworkAndOnIpv6Loopback() throws Exception {
        String network = "slipway-loopback-" + ProcessHandle.current().pid();
        dockerOk("network", "create", network);
        int port = freePort();
        String onNetwork = null;
        String onIpv6 = null;
        try {
            onNetwork = dockerOk("run", "-d", "--network", network, "-p", "127.0.0.1:" + port + ":80", IMAGE, "httpd", "-f",
                    "-p", "80", "-h", "/var/www").stdout().strip();
            assertEquals("hello from a Slipway container\n", page("127.0.0.1", port));
            // joining a second network can move the engine's mapping to it: the page is still served
            dockerOk("network", "connect", "bridge", onNetwork);
            String bridgeAddress = dockerOk("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", onNetwork)
                    .stdout().strip();
            await("the publication to follow the engine's gateway network", Duration.ofSeconds(60),
                    () -> docker.enginePorts().published().stream().anyMatch(p -> p.remote().equals(bridgeAddress + ":80")));
            assertEquals("hello from a Slipway container\n", get(port));
            if (hostHasIpv6Loopback()) {
                int v6 = freePort();
                onIpv6 = dockerOk("run", "-d", "-p", "[::1]:" + v6 + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www")
                        .stdout().strip();
                assertEquals("hello from a Slipway container\n", page("[::1]", v6));
                assertFalse(listening(v6), "an IPv6 loopback binding is not on the host's 127.0.0.1");
            }
        } finally {
            if (onNetwork != null) {
                dockerOk("rm", "-f", onNetwork);
            }
            if (onIpv6 != null) {
                dockerOk("rm", "-f", onIpv6);
            }
            dockerOk("network", "rm", network);
        }
        awaitMatching(Set.of());
    }

    static boolean hostHasIpv6Loopback() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("::1", 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    @Order(6)
    void udpOnALoopbackBindingReachesTheContainer() throws Exception {
        int port = freePort();
        // nothing listens in the container: its kernel counts each datagram that arrives under NoPorts
        String id = dockerOk("run", "-d", "-p", "127.0.0.1:" + port + ":5353/udp", IMAGE, "sleep", "600").stdout().strip();
        try {
            await("udp " + port + " published", Duration.ofSeconds(60), () -> forwarder.list().stream()
                    .anyMatch(p -> p.protocol().equals("udp") && p.local().equals("127.0.0.1:" + port) && !p.via().isEmpty()));
            long before = udpNoPorts(id);
            try (java.net.DatagramSocket client = new java.net.DatagramSocket()) {
                for (int i = 0; i < 5; i++) {
                    byte[] b = ("datagram " + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    client.send(new java.net.DatagramPacket(b, b.length, new InetSocketAddress("127.0.0.1", port)));
                }
            }
            await("the datagrams in the container", Duration.ofSeconds(30), () -> {
                try {
                    return udpNoPorts(id) >= before + 5;
                } catch (Exception e) {
                    return false;
                }
            });
        } finally {
            dockerOk("rm", "-f", id);
        }
        await("udp " + port + " unpublished", Duration.ofSeconds(60), () -> forwarder.list().stream()
                .noneMatch(p -> p.protocol().equals("udp") && p.local().equals("127.0.0.1:" + port)));
    }

    /** The container's count of UDP datagrams that arrived for a port nothing listens on. */
    long udpNoPorts(String id) throws Exception {
        List<String> lines = dockerOk("exec", id, "cat", "/proc/net/snmp").stdout().lines().filter(l -> l.startsWith("Udp:")).toList();
        List<String> names = List.of(lines.get(0).split("\\s+"));
        return Long.parseLong(lines.get(1).split("\\s+")[names.indexOf("NoPorts")]);
    }

    @Test
    @Order(7)
    void containersReachTheHostAndResolveItsNames() throws Exception {
        int hostPort = http.getAddress().getPort();
        // busybox-static's wget crashes with -q or -T (see helper/vm's RealGuestTest); its progress goes to stderr
        Commands.Out page = dockerOk("run", "--rm", IMAGE, "wget", "-O", "-", "http://host.docker.internal:" + hostPort + "/");
        assertEquals("hello from the host\n", page.stdout());
        Commands.Out lookup = dockerOk("run", "--rm", IMAGE, "nslookup", "gateway.docker.internal");
        assertTrue(lookup.stdout().contains("192.168.65.1"), lookup.stdout());
        Commands.Out resolv = dockerOk("run", "--rm", IMAGE, "cat", "/etc/resolv.conf");
        assertTrue(resolv.stdout().contains("nameserver 192.168.65.1"), resolv.stdout());
    }

    @Test
    @Order(8)
    void theEngineCannotBeReachedFromAContainer() throws Exception {
        // every address of the guest (seen from the guest's own network namespace), every address of
        // Slipway's subnet, on the engine's usual ports; and no engine socket anywhere in the container
        String probe = """
                addrs="$(ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1) 172.17.0.1"
                i=1; while [ $i -le 254 ]; do addrs="$addrs 192.168.65.$i"; i=$((i + 1)); done
                for a in $addrs; do for p in 2375 2376; do
                  (nc -w 2 $a $p </dev/null >/dev/null 2>&1 && echo "OPEN $a:$p") &
                done; done
                wait
                for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock; do
                  [ -e $s ] && echo "SOCKET $s"
                done
                find / -xdev -type s 2>/dev/null | sed 's/^/SOCKET /'
                echo PROBED
                """;
        Commands.Out bridged = dockerOk("run", "--rm", IMAGE, "sh", "-c", probe);
        assertTrue(bridged.stdout().contains("PROBED"), bridged.stdout());
        assertFalse(bridged.stdout().contains("OPEN"), bridged.stdout());
        assertFalse(bridged.stdout().contains("SOCKET"), bridged.stdout());
        // sharing the guest's own network does not help either: nothing listens for the engine there
        Commands.Out host = dockerOk("run", "--rm", "--network", "host", IMAGE, "sh", "-c", probe);
        assertTrue(host.stdout().contains("PROBED"), host.stdout());
        assertFalse(host.stdout().contains("OPEN"), host.stdout());
        assertFalse(host.stdout().contains("SOCKET"), host.stdout());
    }

    @Test
    @Order(9)
    void aTakenHostPortIsAConflictAndTheContainerStillRuns() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = taken.getLocalPort();
            String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
            try {
                await("the conflict on " + port, Duration.ofSeconds(60),
                        () -> forwarder.conflicts().stream().anyMatch(c -> c.contains("127.0.0.1:" + port)));
                assertEquals("true", dockerOk("inspect", "-f", "{{.State.Running}}", id).stdout().strip());
                assertTrue(PortCommands.list(forwarder).out().contains("NOT PUBLISHED"));
                awaitMatching(Set.of(port));
            } finally {
                dockerOk("rm", "-f", id);
            }
            await("the conflict on " + port + " to end with its container", Duration.ofSeconds(60),
                    () -> forwarder.conflicts().isEmpty());
        }
        awaitMatching(Set.of());
    }

    @Test
    @Order(10)
    void aContainerThatExitsAtOnceLeavesNothingPublished() throws Exception {
        int port = freePort();
        String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "true").stdout().strip();
        try {
            await("the container to exit", Duration.ofSeconds(60), () -> {
                try {
                    return docker("inspect", "-f", "{{.State.Running}}", id).stdout().strip().equals("false");
                } catch (Exception e) {
                    return false;
                }
            });
            awaitMatching(Set.of());
            assertFalse(listening(port));
        } finally {
            dockerOk("rm", "-f", id);
        }
    }

    @Test
    @Order(11)
    void aPortPublishedByHandIsNeverTouched() throws Exception {
        int port = freePort();
        PublishedPort byHand = new PublishedPort(PublishedPort.TCP, "127.0.0.1:" + port, "192.168.65.3:" + port);
        forwarder.expose(byHand, false);
        try {
            String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
            await("the conflict with the hand-made port", Duration.ofSeconds(60), () -> !forwarder.conflicts().isEmpty());
            dockerOk("rm", "-f", id);
            awaitMatching(Set.of());
            assertTrue(forwarder.list().contains(byHand), "the hand-made publication stays");
        } finally {
            forwarder.unexpose(PublishedPort.TCP, "127.0.0.1:" + port);
        }
    }

    @Test
    @Order(12)
    void udpPortsArePublishedToo() throws Exception {
        int port = freePort();
        String id = dockerOk("run", "-d", "-p", port + ":5353/udp", IMAGE, "sleep", "600").stdout().strip();
        try {
            await("udp " + port + " published", Duration.ofSeconds(60), () -> forwarder.list().stream()
                    .anyMatch(p -> p.protocol().equals("udp") && p.local().equals("127.0.0.1:" + port)));
        } finally {
            dockerOk("rm", "-f", id);
        }
        await("udp " + port + " unpublished", Duration.ofSeconds(60), () -> forwarder.list().stream()
                .noneMatch(p -> p.protocol().equals("udp") && p.local().equals("127.0.0.1:" + port)));
    }

    @Test
    @Order(13)
    void aRestartedRuntimeListsTheRunningContainers() throws Exception {
        int port = freePort();
        String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
        try {
            await("port " + port + " published", Duration.ofSeconds(60), () -> listening(port));
            // the runtime's follower goes away and comes back: it finds the container running
            docker.restartEnginePorts();
            await("port " + port + " published again", Duration.ofSeconds(60), () -> publishedByEngine().contains(port));
            awaitMatching(Set.of());
        } finally {
            dockerOk("rm", "-f", id);
        }
        awaitMatching(Set.of());
    }

    @Test
    @Order(14)
    @Timeout(value = 600)
    void afterTheEngineRestartsPortsMatchItsContainers() throws Exception {
        int before = freePort();
        dockerOk("run", "-d", "-p", before + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www");
        await("port " + before + " published", Duration.ofSeconds(60), () -> listening(before));
        // a privileged container in the guest's process namespace ends the engine; the guest's init starts it again
        docker("run", "--rm", "--privileged", "--pid", "host", IMAGE, "sh", "-c", "kill $(pidof dockerd)");
        await("the engine to restart", Duration.ofSeconds(300), () -> {
            try {
                return vm.console().contains("SLIPWAY-ENGINE-RESTART") && docker("version").exit() == 0;
            } catch (Exception e) {
                return false;
            }
        });
        awaitMatching(Set.of());
        assertFalse(listening(before), "the stopped container's port is closed");
        int after = freePort();
        String id = dockerOk("run", "-d", "-p", after + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
        try {
            await("port " + after + " published", Duration.ofSeconds(60), () -> listening(after));
            awaitMatching(Set.of());
        } finally {
            dockerOk("rm", "-f", id);
        }
    }
}
