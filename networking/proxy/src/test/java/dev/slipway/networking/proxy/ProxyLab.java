package dev.slipway.networking.proxy;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.networking.api.GuestNetwork;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

import dev.slipway.testing.Commands;

import dev.slipway.testing.NetNs;

/**
 * A closed world for the proxy tests and the benchmark, on this machine only: an "origin"
 * namespace (reached from the host over a veth pair) with busybox httpd on :80, openssl s_server
 * on :443 and two tinyproxy instances (one open, one with BasicAuth) that resolve the test names
 * to the namespace's own loopback through /etc/netns/NS/hosts; a "guest" namespace behind a tap
 * device attached to Slipway's stack, whose outbound router is the transparent proxy.
 */
public final class ProxyLab implements AutoCloseable {
    public static final String ORIGIN_IP = "172.31.231.2";
    public static final String HOST_SIDE_IP = "172.31.231.1";
    public static final int PROXY_PORT = 8888;
    public static final int AUTH_PROXY_PORT = 8889;
    public static final String USER = "alice";
    public static final String PASSWORD = "s3cret";
    public static final String INDEX = "hello from the origin\n";

    final String originNs;
    final String guestNs;
    final Path dir;
    final Path www;
    final File proxyLog;
    final File authProxyLog;
    private final String vethHost;
    private final List<Process> processes = new ArrayList<>();
    NetStack stack;
    GuestNamespace guest;
    TransparentProxy proxy;

    public ProxyLab(String prefix, long bigFileBytes) throws Exception {
        originNs = prefix + "-pxo";
        guestNs = prefix + "-pxg";
        String tag = prefix.replace("slw-", "").replace("-", "");
        vethHost = "px" + tag.substring(0, Math.min(8, tag.length()));
        close(); // whatever an earlier, killed run left
        dir = Files.createTempDirectory("slw-pxlab");
        dir.toFile().setWritable(true, false);
        dir.toFile().setExecutable(true, false);
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.html"), INDEX);
        writeBig(www.resolve("big.bin"), bigFileBytes);
        proxyLog = dir.resolve("tinyproxy.log").toFile();
        authProxyLog = dir.resolve("tinyproxy-auth.log").toFile();
        try {
            startOrigin();
            startGuest();
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    private void startOrigin() throws Exception {
        NetNs.add(originNs);
        NetNs.veth(vethHost, HOST_SIDE_IP + "/30", originNs, "pxn0", ORIGIN_IP + "/30");
        Path hosts = Path.of("/etc/netns", originNs, "hosts");
        Files.createDirectories(hosts.getParent());
        Files.writeString(hosts, "127.0.0.1 localhost origin.test direct.test allowed.test denied.test\n");
        Commands.check("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=origin.test",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString());
        processes.add(Commands.startInNs(originNs, dir.resolve("httpd.log").toFile(), "busybox", "httpd", "-f", "-p", "80", "-h", www.toString()));
        List<String> tls = Commands.inNs(originNs, "openssl", "s_server", "-quiet", "-accept", "443",
                "-cert", dir.resolve("cert.pem").toString(), "-key", dir.resolve("key.pem").toString(), "-WWW");
        processes.add(new ProcessBuilder(tls).directory(www.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("s_server.log").toFile()).start());
        processes.add(tinyproxy("tinyproxy.conf", PROXY_PORT, proxyLog, null));
        processes.add(tinyproxy("tinyproxy-auth.conf", AUTH_PROXY_PORT, authProxyLog, USER + " " + PASSWORD));
        for (int port : new int[] {80, 443, PROXY_PORT, AUTH_PROXY_PORT}) {
            waitListening(port);
        }
    }

    private Process tinyproxy(String name, int port, File log, String basicAuth) throws IOException {
        Files.writeString(log.toPath(), "");
        log.setWritable(true, false);
        String conf = "User nobody\nGroup nogroup\nPort " + port + "\nListen " + ORIGIN_IP + "\nTimeout 20\n"
                + "LogFile \"" + log + "\"\nLogLevel Info\nMaxClients 200\nAllow " + HOST_SIDE_IP + "\n"
                + "DisableViaHeader Yes\n" + (basicAuth == null ? "" : "BasicAuth " + basicAuth + "\n");
        Path file = dir.resolve(name);
        Files.writeString(file, conf);
        return Commands.startInNs(originNs, dir.resolve(name + ".out").toFile(), "tinyproxy", "-d", "-c", file.toString());
    }

    private void waitListening(int port) throws Exception {
        for (int i = 0; i < 100; i++) {
            Commands.Out ss = Commands.inNs(originNs, Duration.ofSeconds(5), "ss", "-ltnH", "sport = :" + port);
            if (ss.ok() && !ss.stdout().isBlank()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException("nothing listens on port " + port + " in " + originNs + "; see " + dir);
    }

    private void startGuest() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        proxy = new TransparentProxy(network(), new int[] {80}, new int[] {443}, 3128,
                new Interceptor.Limits(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), 128));
        stack.router(proxy);
        guest = new GuestNamespace(new ProcessCommandRunner(), guestNs, "pxg0", NetConfig.defaults());
        guest.start(stack);
    }

    static GuestNetwork network() {
        return new GuestNetwork() {
            @Override
            public InetAddress gateway() {
                return addr("192.168.65.1");
            }

            @Override
            public InetAddress hostAlias() {
                return addr("192.168.65.254");
            }

            @Override
            public int mtu() {
                return 1500;
            }
        };
    }

    static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Adds a connection policy as the OSGi whiteboard would when a policy bundle starts. */
    public void addPolicy(dev.slipway.networking.api.ConnectionPolicy policy) {
        proxy.addPolicy(policy);
    }

    /** Removes it as when the bundle stops or is uninstalled. */
    public void removePolicy(dev.slipway.networking.api.ConnectionPolicy policy) {
        proxy.removePolicy(policy);
    }

    public void use(ProxyConfig config) {
        proxy.use(config);
    }

    /**
     * Replaces the stack by a new one that takes the old one's state, in the order the network
     * component takes it in a live update (flows, links, leases, then the flows resume); the
     * transparent proxy stays, as it does when only the networking bundle is updated.
     *
     * @return how many TCP connections the new stack took
     */
    public int updateStack() throws IOException {
        NetStack.HandOver handed = stack.handOver();
        NetStack next = new NetStack(NetConfig.defaults());
        next.router(proxy);
        List<String> failures = new ArrayList<>();
        int[] taken = next.adoptFlows(handed.tcp(), handed.udp(), failures);
        if (!failures.isEmpty() || handed.tcpReset() > 0) {
            throw new IOException("the new stack could not take every flow: " + failures + ", reset " + handed.tcpReset());
        }
        for (java.util.function.Supplier<java.util.Map<String, Object>> link : handed.links()) {
            java.util.Map<String, Object> description = link.get();
            next.attach(dev.slipway.networking.stack.transport.LinkHandover.adopt(description, 1500),
                    dev.slipway.networking.stack.transport.LinkHandover.held(description));
        }
        next.restoreLeases(handed.leases());
        next.resumeAdoptedFlows();
        stack.close();
        stack = next;
        return taken[0];
    }

    /** Runs {@code args} in the guest namespace. */
    public Commands.Out guest(String... args) throws Exception {
        return Commands.inNs(guestNs, Duration.ofSeconds(60), args);
    }

    public String proxyLogText() throws IOException {
        return Files.readString(proxyLog.toPath());
    }

    String authProxyLogText() throws IOException {
        return Files.readString(authProxyLog.toPath());
    }

    private static void writeBig(Path file, long bytes) throws IOException {
        byte[] block = new byte[1 << 20];
        new SplittableRandom(11).nextBytes(block);
        try (var out = Files.newOutputStream(file)) {
            for (long left = bytes; left > 0; left -= block.length) {
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(3, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        if (proxy != null) {
            proxy.deactivate();
        }
        if (stack != null) {
            stack.close();
        }
        if (guest != null) {
            guest.close();
        }
        // processes still inside the namespaces (children of ip netns exec) go with a kill by namespace
        for (String ns : new String[] {originNs, guestNs}) {
            NetNs.killAll(ns);
            NetNs.delete(ns);
        }
        NetNs.deleteLink(vethHost);
        deleteTree(Path.of("/etc/netns", originNs));
        if (dir != null) {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
