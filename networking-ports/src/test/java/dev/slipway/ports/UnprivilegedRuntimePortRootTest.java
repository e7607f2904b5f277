package dev.slipway.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

/**
 * Port 80 (or the first free port below 1024) published by a runtime running as an unprivileged user:
 * the forwarder's own bind is refused (EACCES), the helper binds the port and passes the socket, curl
 * reaches the test server behind it. A user outside the helper's group gets a clear refusal and nothing
 * is published. Creates a group and two users (removed afterwards); needs root, useradd, setpriv, curl.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class UnprivilegedRuntimePortRootTest {

    private static final String SUFFIX = Integer.toString(ThreadLocalRandom.current().nextInt(10_000, 99_999));
    private static final String GROUP = "slwpg" + SUFFIX;
    private static final String MEMBER = "slwpm" + SUFFIX;
    private static final String OUTSIDER = "slwpo" + SUFFIX;
    private static final List<List<String>> CLEANUP = new ArrayList<>();
    private static Path root;
    private static String classPath;
    private static TestHelper helper;
    private static HttpServer backend;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root (CI runs as root): creates users with useradd");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "needs useradd and setpriv: apt-get install -y passwd util-linux");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "needs curl: apt-get install -y curl");
        Assumptions.assumeTrue(Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).get(0).trim()) > 80,
                "needs net.ipv4.ip_unprivileged_port_start above 80, so that the unprivileged bind is refused");
        run("groupadd", GROUP);
        CLEANUP.add(List.of("groupdel", GROUP));
        for (String user : List.of(MEMBER, OUTSIDER)) {
            run("useradd", "--no-create-home", "--no-user-group", "--shell", "/usr/sbin/nologin", user);
            CLEANUP.add(0, List.of("userdel", user));
        }
        run("usermod", "--append", "--groups", GROUP, MEMBER);
        root = Files.createTempDirectory("slipway-bind-test");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        classPath = readableClassPath(root.resolve("cp"));
        helper = new TestHelper(root.resolve("helper"), GROUP);
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
        for (List<String> command : CLEANUP) {
            new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The test class path copied where other users can read it (the build's own may be under /root). */
    private static String readableClassPath(Path dir) throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Files.createDirectories(dir);
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : cp.split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.exists(source)) {
                continue;
            }
            Path target = dir.resolve(i++ + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.walk(source)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Path t = target.resolve(source.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(f, t, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            } else {
                Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
            }
            entries.add(target.toString());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    /** Starts the runtime side as {@code user}; returns the process once it has reported its publication. */
    private static Process runtimeAs(String user, int port, List<String> report) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder("setpriv", "--reuid=" + user, "--regid=users", "--init-groups", "--",
                java, "-Djna.tmpdir=/tmp", "-XX:TieredStopAtLevel=1", "-cp", classPath, UnprivilegedRuntimeMain.class.getName(),
                helper.socket.toString(), Integer.toString(port), Integer.toString(backend.getAddress().getPort()))
                .redirectErrorStream(true).directory(root.toFile());
        builder.environment().put("HOME", root.toString());
        Process p = builder.start();
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
        Process p = new ProcessBuilder("curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return out;
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
        Process runtime = runtimeAs(MEMBER, port, report);
        try {
            assertTrue(report.contains("PUBLISHED") && report.contains("PORTS 1"), String.join("\n", report));
            assertEquals("hello from behind the published port\n", curl(port));
            String audit = Files.readString(helper.auditLog);
            assertTrue(audit.contains("ports.bind") && audit.contains("\"user\":\"" + MEMBER + "\""), audit);
        } finally {
            stop(runtime);
        }
    }

    @Test
    void aUserOutsideTheHelpersGroupIsRefusedClearlyAndNothingIsPublished() throws Exception {
        int port = TestHelper.freePrivilegedPort();
        List<String> report = new ArrayList<>();
        Process runtime = runtimeAs(OUTSIDER, port, report);
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
