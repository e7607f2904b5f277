package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.bench.ConnectionLoad;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/**
 * Connection scale through the tap: ten thousand guest connections held open at once all still
 * echo, and fifty thousand opened and closed one after another (half reset, half closed with a FIN)
 * leave no connection, buffer, CLOSE_WAIT socket or descriptor behind. The guest's client and the
 * host's echo server run as their own processes, so this JVM holds only the stack's host sockets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionScaleTest {
    static final String NS = NetNs.unique("slw-test-scale");
    static final String DEVICE = NetNs.device("slws");
    static final int HELD = 10_000;
    static final int CYCLED = 50_000;
    /** Descriptors each process needs: the connections plus room for the JVM's own files. */
    static final int DESCRIPTORS_NEEDED = HELD + 1024;
    NetStack stack;
    GuestNamespace ns;
    Process echo;
    int echoPort;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox");
        long limit = openFileLimit();
        Assumptions.assumeTrue(limit >= DESCRIPTORS_NEEDED, "needs " + DESCRIPTORS_NEEDED
                + " open files per process for " + HELD + " connections; this JVM may open " + limit + " (raise ulimit -n)");
        NetNs.delete(NS);
        stack = new NetStack(NetConfig.defaults());
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, DEVICE, NetConfig.defaults());
        ns.start(stack);
        // FIN-closed connections leave TIME-WAIT in the guest: give it every port
        var ports = Commands.inNs(NS, Duration.ofSeconds(10), "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535");
        assertEquals(0, ports.exit(), ports.stderr());
        echo = new ProcessBuilder(java(), "-XX:+UseSerialGC", "-cp", testClasses(), "dev.slipway.networking.stack.bench.BenchEcho",
                "127.0.0.1", "0").redirectErrorStream(true).start();
        String ready = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertTrue(ready != null && ready.startsWith("ready "), "echo server: " + ready);
        echoPort = Integer.parseInt(ready.substring(6).strip());
    }

    @AfterAll
    void stop() throws Exception {
        if (echo != null) {
            echo.destroy();
            echo.waitFor(5, TimeUnit.SECONDS);
        }
        if (stack != null) {
            stack.close();
        }
        if (ns != null) {
            ns.close();
        }
        NetNs.delete(NS);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tenThousandConnectionsHeldAtOnceAllStillEcho() throws Exception {
        var r = guest(Duration.ofSeconds(55), "hold", "192.168.65.254", Integer.toString(echoPort), Integer.toString(HELD));
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(HELD + " " + HELD, r.stdout().strip(), "working and opened");
        awaitNoConnections();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void fiftyThousandConnectionsOpenedAndClosedLeaveNothingBehind() throws Exception {
        awaitNoConnections();
        long descriptorsBefore = openDescriptors();
        long pid = ProcessHandle.current().pid();
        var r = guest(Duration.ofSeconds(50), "cycle", "192.168.65.254", Integer.toString(echoPort), Integer.toString(CYCLED),
                "32", Long.toString(pid), Integer.toString(CYCLED), "45", "mixed");
        assertEquals(0, r.exit(), r.stderr());
        // CONNECTIONS RSS_KB FDS FAILED ELAPSED
        String[] last = r.stdout().strip().split("\n");
        String[] fields = last[last.length - 1].split(" ");
        assertEquals(Integer.toString(CYCLED), fields[0], "connections done in time: " + r.stdout());
        assertEquals("0", fields[3], "failed connections: " + r.stdout());
        Map<String, Object> tcp = awaitNoConnections();
        assertEquals(0L, ((Number) tcp.get("buffersInUse")).longValue(), tcp.toString());
        assertTrue(((Number) tcp.get("opened")).longValue() >= CYCLED, tcp.toString());
        var ss = Commands.run(Duration.ofSeconds(10), "ss", "-tanpH", "state", "close-wait");
        assertTrue(!ss.stdout().contains("pid=" + pid + ","), "CLOSE_WAIT sockets of this process: " + ss.stdout());
        long descriptorsAfter = openDescriptors();
        assertTrue(descriptorsAfter <= descriptorsBefore + 8, "descriptors " + descriptorsAfter + " after, " + descriptorsBefore + " before");
    }

    /** Waits until the stack's connection table is empty (no connection in any state, TIME-WAIT-like or CLOSE_WAIT-like); its TCP status. */
    @SuppressWarnings("unchecked")
    Map<String, Object> awaitNoConnections() throws InterruptedException {
        Map<String, Object> tcp = (Map<String, Object>) stack.status().get("tcp");
        for (int i = 0; i < 100 && ((Number) tcp.get("connections")).intValue() > 0; i++) {
            Thread.sleep(100);
            tcp = (Map<String, Object>) stack.status().get("tcp");
        }
        if (((Number) tcp.get("connections")).intValue() > 0) {
            // what the stack dropped, and what the guest's side of the tap dropped, say where the guest's resets went
            String tap;
            try {
                tap = Commands.inNs(NS, Duration.ofSeconds(10), "ip", "-s", "link", "show", DEVICE).stdout();
            } catch (Exception e) {
                tap = "(ip -s link failed: " + e + ")";
            }
            assertEquals(0, ((Number) tcp.get("connections")).intValue(), tcp + "\nstack drops: " + stack.status().get("drops")
                    + "\nguest's tap: " + tap);
        }
        return tcp;
    }

    static Commands.Out guest(Duration timeout, String... args) throws Exception {
        String command = "ulimit -n " + DESCRIPTORS_NEEDED + " && exec " + java() + " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "
                + testClasses() + " " + ConnectionLoad.class.getName() + " " + String.join(" ", args);
        return Commands.inNs(NS, timeout, "bash", "-c", command);
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String testClasses() throws Exception {
        return Path.of(ConnectionLoad.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    static long openDescriptors() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** The soft limit on open files of this process ("Max open files" in /proc/self/limits). */
    static long openFileLimit() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        return -1;
    }
}
