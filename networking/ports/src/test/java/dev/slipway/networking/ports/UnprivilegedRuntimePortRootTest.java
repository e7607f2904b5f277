package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.testing.ClassPaths;
import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;
import dev.slipway.testing.TestUsers;

/**
 * Port 80 (or the first free port below 1024) published by a runtime running as an unprivileged user:
 * the forwarder's own bind is refused (EACCES), the helper binds the port and passes the socket, curl
 * reaches the test server behind it. A user outside the helper's group gets a clear refusal and nothing
 * is published. Creates a group and two users (removed afterwards); needs root, useradd, setpriv, curl.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class UnprivilegedRuntimePortRootTest {

    private static TestUsers users;
    private static String member;
    private static String outsider;
    private static Path root;
    private static String classPath;
    private static TestHelper helper;
    private static HttpServer backend;

    @BeforeAll
    static void setUp() throws Exception {
        Prerequisites.assumeRoot("creates users with useradd");
        Prerequisites.assumeCommands("curl");
        Assumptions.assumeTrue(Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).get(0).trim()) > 80,
                "needs net.ipv4.ip_unprivileged_port_start above 80, so that the unprivileged bind is refused");
        users = TestUsers.create("slwp", "creates users with useradd");
        member = users.member("m");
        outsider = users.outsider("o");
        root = Files.createTempDirectory("slipway-bind-test");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        classPath = ClassPaths.readableCopy(root.resolve("cp"));
        helper = new TestHelper(root.resolve("helper"), users.group());
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        backend.createContext("/", exchange -> {
            byte[] body = "hello from behind the published port\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        backend.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (backend != null) {
            backend.stop(0);
        }
        if (helper != null) {
            helper.close();
        }
        if (users != null) {
            users.close();
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Starts the runtime side as {@code user}; returns the process once it has reported its publication. */
    private static Process runtimeAs(String user, int port, List<String> report) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = TestUsers.as(user, root,
                java, "-Djna.tmpdir=/tmp", "-XX:TieredStopAtLevel=1", "-cp", classPath, UnprivilegedRuntimeMain.class.getName(),
                helper.socket.toString(), Integer.toString(port), Integer.toString(backend.getAddress().getPort()))
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            report.add(line);
            if (line.startsWith("PORTS")) {
                break;
            }
        }
        return p;
    }

    private static String curl(int port) throws Exception {
        Commands.Out out = Commands.run(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/");
        return out.stdout() + out.stderr();
    }

    private static void stop(Process p) throws Exception {
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    @Test
    void aGroupMembersUnprivilegedRuntimePublishesAPortBelow1024ThroughTheHelperAndCurlReachesTheServerBehindIt() throws Exception {
        int port = TestHelper.freePrivilegedPort();
        List<String> report = new ArrayList<>();
        Process runtime = runtimeAs(member, port, report);
        try {
            assertTrue(report.contains("PUBLISHED") && report.contains("PORTS 1"), String.join("\n", report));
            assertEquals("hello from behind the published port\n", curl(port));
            String audit = Files.readString(helper.auditLog);
            assertTrue(audit.contains("ports.bind") && audit.contains("\"user\":\"" + member + "\""), audit);
        } finally {
            stop(runtime);
        }
    }

    @Test
    void aUserOutsideTheHelpersGroupIsRefusedClearlyAndNothingIsPublished() throws Exception {
        int port = TestHelper.freePrivilegedPort();
        List<String> report = new ArrayList<>();
        Process runtime = runtimeAs(outsider, port, report);
        try {
            String all = String.join("\n", report);
            assertTrue(report.stream().anyMatch(l -> l.startsWith("ERROR cannot listen on tcp 127.0.0.1:" + port + ": the helper refused")), all);
            assertTrue(all.contains("helper's group"), all);
            assertTrue(report.contains("PORTS 0"), all);
            String refused = curl(port);
            assertTrue(refused.contains("Failed to connect") || refused.contains("Couldn't connect"), refused);
        } finally {
            stop(runtime);
        }
    }
}
