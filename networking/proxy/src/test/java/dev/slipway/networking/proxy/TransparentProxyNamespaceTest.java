package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;

import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * A guest namespace's curl through Slipway's stack and transparent proxy to a real tinyproxy in
 * front of local HTTP and HTTPS servers; everything stays on this machine (see {@link ProxyLab}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransparentProxyNamespaceTest {
    static final String O = ProxyLab.ORIGIN_IP;
    static final ProxyServer OPEN = new ProxyServer("http", O, ProxyLab.PROXY_PORT, null, null);
    static final ProxyServer AUTH = new ProxyServer("http", O, ProxyLab.AUTH_PROXY_PORT, ProxyLab.USER, ProxyLab.PASSWORD);
    ProxyLab lab;

    @BeforeAll
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "curl", "tinyproxy", "openssl", "ss");
        lab = new ProxyLab("slw-test", 8L << 20);
    }

    @AfterAll
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    @BeforeEach
    void proxiedByDefault() {
        if (lab != null) {
            use(OPEN, List.of());
        }
    }

    void use(ProxyServer proxy, List<String> noProxy) {
        lab.use(new ProxyConfig(proxy, proxy, null, noProxy, null, false, "test"));
    }

    Commands.Out curl(String name, String scheme, String path, String... extra) throws Exception {
        int port = scheme.equals("https") ? 443 : 80;
        List<String> c = new java.util.ArrayList<>(List.of("curl", "-sS", "-k", "--max-time", "20",
                "--resolve", name + ":" + port + ":" + O, "-w", "\n%{http_code}"));
        c.addAll(List.of(extra));
        c.add(scheme + "://" + name + path);
        return lab.guest(c.toArray(String[]::new));
    }

    @Test
    void plainHttpGoesThroughTheProxyInAbsoluteFormWithTheHostName() throws Exception {
        Commands.Out r = curl("origin.test", "http", "/index.html");
        assertEquals(ProxyLab.INDEX + "\n200", r.stdout(), r.toString());
        assertTrue(lab.proxyLogText().contains("GET http://origin.test/index.html"), lab.proxyLogText());
    }

    @Test
    void interceptedConnectionsNeedNoListenerOfThisProcess() throws Exception {
        long intercepted = lab.proxy.interceptorCount();
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout());
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "https", "/index.html").stdout());
        assertEquals(intercepted + 2, lab.proxy.interceptorCount(), "both reached the interceptor");
        assertEquals(List.of(), listeningSocketsOfThisProcess(), "the stack hands intercepted connections over directly");
    }

    /** The TCP listeners among this process's sockets (from /proc: the kernel's socket table joined with our descriptors). */
    static List<String> listeningSocketsOfThisProcess() throws Exception {
        java.util.Set<String> ours = new java.util.HashSet<>();
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            for (java.nio.file.Path fd : (Iterable<java.nio.file.Path>) fds::iterator) {
                try {
                    String link = java.nio.file.Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        ours.add(link.substring(8, link.length() - 1));
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        }
        List<String> listening = new java.util.ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
                String[] f = line.strip().split("\\s+");
                if (f.length > 9 && f[3].equals("0A") && ours.contains(f[9])) {
                    listening.add(table + " " + f[1]);
                }
            }
        }
        return listening;
    }

    @Test
    void httpsGoesThroughConnectNamedAfterTheSni() throws Exception {
        Commands.Out r = curl("origin.test", "https", "/index.html");
        assertEquals(ProxyLab.INDEX + "\n200", r.stdout(), r.toString());
        assertTrue(lab.proxyLogText().contains("CONNECT origin.test:443"), lab.proxyLogText());
    }

    /**
     * A live update of the stack in the middle of intercepted downloads (the guest reads slowly, so
     * the interceptor's threads wait on a full guest window when the stack is replaced): the same
     * interceptor threads go on through the new stack and every byte arrives.
     */
    @Test
    void interceptedDownloadsGoOnAcrossALiveUpdateOfTheStack() throws Exception {
        String expected = Commands.run("sha256sum", lab.www.resolve("big.bin").toString()).stdout().split(" ")[0];
        long intercepted = lab.proxy.interceptorCount();
        List<Process> downloads = new java.util.ArrayList<>();
        List<java.nio.file.Path> outputs = new java.util.ArrayList<>();
        for (String scheme : new String[] {"http", "https"}) {
            java.nio.file.Path out = java.nio.file.Files.createTempFile("slw-px-update", ".out");
            outputs.add(out);
            downloads.add(new ProcessBuilder("ip", "netns", "exec", lab.guestNs, "sh", "-c",
                    "curl -sS -k --max-time 40 --resolve origin.test:" + (scheme.equals("http") ? 80 : 443) + ":" + O + " "
                            + scheme + "://origin.test/big.bin | { sleep 2; sha256sum; }")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start());
        }
        try {
            Thread.sleep(1000); // both connections are open and stalled on the sleeping readers
            assertEquals(intercepted + 2, lab.proxy.interceptorCount(), "both downloads reached the interceptor");
            assertEquals(2, lab.updateStack(), "both intercepted connections are taken by the new stack");
            for (int i = 0; i < downloads.size(); i++) {
                assertTrue(downloads.get(i).waitFor(45, TimeUnit.SECONDS), "download " + i + " finished");
                String got = java.nio.file.Files.readString(outputs.get(i));
                assertEquals(expected, got.split(" ")[0], "download " + i + ": " + got);
            }
            assertEquals(intercepted + 2, lab.proxy.interceptorCount(), "no connection was made again");
        } finally {
            downloads.forEach(Process::destroyForcibly);
            for (java.nio.file.Path out : outputs) {
                java.nio.file.Files.deleteIfExists(out);
            }
        }
    }

    @Test
    void largeDownloadsArriveIntactBothWays() throws Exception {
        String expected = Commands.run("sha256sum", lab.www.resolve("big.bin").toString()).stdout().split(" ")[0];
        for (String scheme : new String[] {"http", "https"}) {
            Commands.Out r = lab.guest("sh", "-c", "curl -sS -k --max-time 40 --resolve origin.test:" + (scheme.equals("http") ? 80 : 443)
                    + ":" + O + " " + scheme + "://origin.test/big.bin | sha256sum");
            assertEquals(expected, r.stdout().split(" ")[0], scheme + ": " + r);
        }
    }

    @Test
    void noProxyByNameConnectsDirectly() throws Exception {
        use(OPEN, List.of(".direct.test", "direct.test"));
        String before = lab.proxyLogText();
        assertEquals(ProxyLab.INDEX + "\n200", curl("direct.test", "http", "/index.html").stdout());
        assertEquals(ProxyLab.INDEX + "\n200", curl("direct.test", "https", "/index.html").stdout());
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout());
        String added = lab.proxyLogText().substring(before.length());
        assertFalse(added.contains("direct.test"), added);
        assertTrue(added.contains("origin.test"), "a name not in NO_PROXY still goes through the proxy: " + added);
    }

    @Test
    void noProxyByAddressAndByCidrConnectsDirectly() throws Exception {
        for (String entry : new String[] {O, "172.31.231.0/30"}) {
            use(OPEN, List.of(entry));
            String before = lab.proxyLogText();
            assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout(), entry);
            assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "https", "/index.html").stdout(), entry);
            assertEquals(before, lab.proxyLogText(), "nothing reached the proxy with NO_PROXY=" + entry);
        }
    }

    @Test
    void proxyWithBasicAuthGetsTheConfiguredCredentials() throws Exception {
        use(AUTH, List.of());
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout());
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "https", "/index.html").stdout());
        assertTrue(lab.authProxyLogText().contains("CONNECT origin.test:443"), lab.authProxyLogText());
    }

    @Test
    void missingCredentialsGive407OnHttpAndAClosedConnectionOnHttps() throws Exception {
        use(new ProxyServer("http", O, ProxyLab.AUTH_PROXY_PORT, null, null), List.of());
        Commands.Out http = curl("origin.test", "http", "/index.html");
        assertTrue(http.stdout().endsWith("\n407"), http.toString());
        long start = System.nanoTime();
        Commands.Out https = curl("origin.test", "https", "/index.html");
        assertNotEquals(0, https.exit(), https.toString());
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "the guest was not left waiting");
        assertTrue(lab.proxy.describe().contains("407"), lab.proxy.describe());
    }

    @Test
    void unreachableProxyGives502WithTheReasonAndClosesTls() throws Exception {
        use(new ProxyServer("http", O, 8899, null, null), List.of());
        Commands.Out http = curl("origin.test", "http", "/index.html");
        assertTrue(http.stdout().endsWith("\n502"), http.toString());
        assertTrue(http.stdout().contains("172.31.231.2:8899"), http.toString());
        Commands.Out https = curl("origin.test", "https", "/index.html");
        assertNotEquals(0, https.exit(), https.toString());
    }

    @Test
    void explicitProxyOnTheGatewayServesHttpAndConnect() throws Exception {
        String before = lab.proxyLogText();
        Commands.Out http = lab.guest("curl", "-sS", "--max-time", "20", "-x", "http://192.168.65.1:3128", "http://origin.test/index.html");
        assertEquals(ProxyLab.INDEX, http.stdout(), http.toString());
        Commands.Out https = lab.guest("curl", "-sS", "-k", "--max-time", "20", "-x", "http://192.168.65.1:3128", "https://origin.test/index.html");
        assertEquals(ProxyLab.INDEX, https.stdout(), https.toString());
        String added = lab.proxyLogText().substring(before.length());
        assertTrue(added.contains("CONNECT origin.test:443"), added);
    }

    @Test
    void withoutAProxyNothingIsInterceptedAndOtherPortsAreLeftAlone() throws Exception {
        lab.use(ProxyConfig.none("test"));
        long intercepted = lab.proxy.interceptorCount();
        assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout());
        assertEquals(intercepted, lab.proxy.interceptorCount());
        use(OPEN, List.of());
        Commands.Out other = lab.guest("curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", "http://" + O + ":" + ProxyLab.PROXY_PORT + "/");
        assertEquals(intercepted, lab.proxy.interceptorCount(), "port " + ProxyLab.PROXY_PORT + " is not a transparent port: " + other);
    }

    @Test
    void pacScriptChoosesTheProxyPerName() throws Exception {
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        byte[] script = ("function FindProxyForURL(url, host) {\n"
                + "  if (dnsDomainIs(host, 'direct.test')) return 'DIRECT';\n"
                + "  return 'PROXY " + O + ":" + ProxyLab.PROXY_PORT + "; DIRECT';\n}\n").getBytes();
        server.createContext("/proxy.pac", ex -> {
            ex.sendResponseHeaders(200, script.length);
            ex.getResponseBody().write(script);
            ex.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/proxy.pac";
            lab.use(new ProxyConfig(null, null, null, List.of(), url, false, "test"));
            for (int i = 0; i < 100 && !lab.proxy.describe().contains("in use"); i++) {
                Thread.sleep(50);
            }
            assertTrue(lab.proxy.describe().contains("pac:              in use"), lab.proxy.describe());
            String before = lab.proxyLogText();
            assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "https", "/index.html").stdout());
            assertEquals(ProxyLab.INDEX + "\n200", curl("origin.test", "http", "/index.html").stdout());
            assertEquals(ProxyLab.INDEX + "\n200", curl("direct.test", "https", "/index.html").stdout());
            String added = lab.proxyLogText().substring(before.length());
            assertTrue(added.contains("CONNECT origin.test:443") && added.contains("GET http://origin.test/"), added);
            assertFalse(added.contains("direct.test"), added);
        } finally {
            server.stop(0);
        }
    }
}
