package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.testing.Prerequisites;

/**
 * Real clients ({@code dig}, {@code host}) against Slipway's DNS server listening on loopback,
 * forwarding to a real {@code dnsmasq} on loopback that serves the test records. No other network.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RealClientsTest {

    static final String BIG_STRING = "s".repeat(240);
    static final int BIG_STRINGS = 8;

    private static Process dnsmasq;
    private static DnsStats stats;
    private static DnsServer server;
    private static DnsListener listener;
    private static int port;


    static String dnsmasqPath() {
        return Prerequisites.onPath("dnsmasq") && Files.isExecutable(Path.of("/usr/sbin/dnsmasq")) ? "/usr/sbin/dnsmasq" : "dnsmasq";
    }

    /** A port free for both UDP and TCP on 127.0.0.1 (for a peer that must be told its port). */
    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    ServerSocket tcp = new ServerSocket(udp.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return udp.getLocalPort();
            } catch (java.net.BindException e) {
                // taken for TCP: try another
            }
        }
        throw new IOException("no free port");
    }

    static Process startDnsmasq(int dnsmasqPort, List<String> records) throws Exception {
        List<String> command = new ArrayList<>(List.of(dnsmasqPath(), "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=" + dnsmasqPort, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--log-facility=-", "--pid-file="));
        command.addAll(records);
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && process.isAlive()) {
            try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), dnsmasqPort)) {
                return process;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        process.destroyForcibly();
        throw new IOException("dnsmasq did not start (exit " + (process.isAlive() ? "none" : process.exitValue()) + ")");
    }

    static List<String> testRecords() {
        StringBuilder big = new StringBuilder("--txt-record=big.slipway.test");
        for (int i = 0; i < BIG_STRINGS; i++) {
            big.append(',').append(BIG_STRING);
        }
        return List.of("--local=/slipway.test/", "--local=/20.10.in-addr.arpa/",
                "--host-record=web.slipway.test,10.20.30.40,2001:db8::40",
                "--txt-record=txt.slipway.test,hello slipway",
                "--mx-host=slipway.test,mail.slipway.test,10",
                "--srv-host=_http._tcp.slipway.test,web.slipway.test,8080,0,5",
                big.toString());
    }

    @BeforeAll
    static void start() throws Exception {
        Prerequisites.assumeCommands("dig", "host", "dnsmasq");
        int dnsmasqPort = freePort();
        dnsmasq = startDnsmasq(dnsmasqPort, testRecords());
        stats = new DnsStats();
        Map<String, Object> config = Map.of("upstreams", new String[] {"127.0.0.1:" + dnsmasqPort});
        server = new DnsServer(stats, Configs.dns(config));
        listener = new DnsListener(stats, Configs.dns(config), "127.0.0.1:0");
        listener.setDnsService(server);
        port = listener.address().getPort();
    }

    @AfterAll
    static void stop() {
        if (listener != null) {
            listener.deactivate();
        }
        if (server != null) {
            server.deactivate();
        }
        if (dnsmasq != null) {
            dnsmasq.destroy();
            try {
                if (!dnsmasq.waitFor(5, TimeUnit.SECONDS)) {
                    dnsmasq.destroyForcibly();
                }
            } catch (InterruptedException e) {
                dnsmasq.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "finished: " + String.join(" ", command));
        return out;
    }

    private static String dig(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("dig", "@127.0.0.1", "-p", String.valueOf(port), "+time=3", "+tries=1"));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    private static String digShort(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("+short");
        return dig(all.toArray(String[]::new)).strip();
    }

    @Test
    void digGetsTheBuiltInNamesOverUdpAndTcp() throws Exception {
        assertEquals("192.168.65.254", digShort("host.docker.internal", "A"));
        assertEquals("192.168.65.1", digShort("Gateway.Docker.Internal", "A", "+tcp"));
        assertEquals("127.0.0.1", digShort("kubernetes.docker.internal"));
        assertEquals("fd00:5e7a:1e55::254", digShort("host.docker.internal", "AAAA"));
        assertEquals("fd00:5e7a:1e55::1", digShort("gateway.docker.internal", "AAAA", "+tcp"));
    }

    @Test
    void digGetsNoDataWithAnSoaForTypesABuiltInNameLacks() throws Exception {
        for (String type : new String[] {"MX", "TXT", "SRV"}) {
            String out = dig("host.docker.internal", type);
            assertTrue(out.contains("status: NOERROR") && out.contains("ANSWER: 0") && out.contains("AUTHORITY: 1")
                    && out.contains("SOA"), type + ":\n" + out);
        }
    }

    @Test
    void digReverseLooksUpTheGatewayAndTheHostAlias() throws Exception {
        assertEquals("gateway.docker.internal.", digShort("-x", "192.168.65.1"));
        assertEquals("host.docker.internal.", digShort("-x", "192.168.65.254"));
        assertEquals("host.docker.internal.", digShort("-x", "fd00:5e7a:1e55::254"));
    }

    @Test
    void digGetsForwardedRecordsOfEveryTypeFromDnsmasq() throws Exception {
        assertEquals("10.20.30.40", digShort("web.slipway.test", "A"));
        assertEquals("2001:db8::40", digShort("web.slipway.test", "AAAA"));
        assertEquals("10 mail.slipway.test.", digShort("slipway.test", "MX"));
        assertEquals("\"hello slipway\"", digShort("txt.slipway.test", "TXT"));
        assertEquals("0 5 8080 web.slipway.test.", digShort("_http._tcp.slipway.test", "SRV"));
        assertEquals("web.slipway.test.", digShort("-x", "10.20.30.40"));
        assertTrue(dig("missing.slipway.test", "A").contains("status: NXDOMAIN"));
    }

    @Test
    void aLargeTxtAnswerComesThroughByTcpFallback() throws Exception {
        String udp = dig("big.slipway.test", "TXT", "+bufsize=512", "+ignore");
        assertTrue(udp.contains(" tc ") || udp.contains(" tc;"), "truncated towards a 512-byte client:\n" + udp);
        String full = digShort("big.slipway.test", "TXT");
        int strings = full.split(BIG_STRING, -1).length - 1;
        assertEquals(BIG_STRINGS, strings, full);
        assertTrue(((Map<?, ?>) stats.status().get("upstream")).get("tcpRetries") instanceof Long n && n >= 1,
                "the forwarder asked dnsmasq again over TCP: " + stats.status());
    }

    @Test
    void hostGetsBuiltInAndForwardedNames() throws Exception {
        String p = String.valueOf(port);
        assertTrue(run("host", "-p", p, "-W", "3", "-t", "A", "host.docker.internal", "127.0.0.1")
                .contains("host.docker.internal has address 192.168.65.254"));
        assertTrue(run("host", "-p", p, "-W", "3", "-t", "MX", "slipway.test", "127.0.0.1")
                .contains("slipway.test mail is handled by 10 mail.slipway.test."));
        assertTrue(run("host", "-p", p, "-W", "3", "-T", "-t", "SRV", "_http._tcp.slipway.test", "127.0.0.1")
                .contains("has SRV record 0 5 8080 web.slipway.test."));
        assertTrue(run("host", "-p", p, "-W", "3", "192.168.65.1", "127.0.0.1")
                .contains("domain name pointer gateway.docker.internal."));
        String aaaa = run("host", "-p", p, "-W", "3", "-t", "AAAA", "host.docker.internal", "127.0.0.1");
        assertTrue(aaaa.contains("host.docker.internal has IPv6 address fd00:5e7a:1e55::254"), aaaa);
    }
}
