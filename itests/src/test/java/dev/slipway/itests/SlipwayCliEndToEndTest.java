package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.slipway.testing.Prerequisites;

/** Drives the real ./slipway script, as a user does: up -d, status --json, deploy, shell, down, and recovery from a killed runtime. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SlipwayCliEndToEndTest {

    record Run(int exitCode, String out, String err) {}

    @TempDir
    Path home;

    private final Path root = Path.of(System.getProperty("slipway.root", "..")).toAbsolutePath().normalize();

    @BeforeEach
    void noRuntimeYet() throws Exception {
        assertEquals(3, slipway("status").exitCode(), "a fresh home has no runtime");
    }

    /** As root the runtime makes its embedded guest namespace; the test gives it a name of its own. */
    private static final String NETNS = "slw-e2e-" + ProcessHandle.current().pid();

    @AfterEach
    void stopRuntime() throws Exception {
        slipway("down");
        // a runtime killed by the test cannot remove its namespace itself
        if (Files.exists(Path.of("/run/netns", NETNS))) {
            new ProcessBuilder("ip", "netns", "del", NETNS).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Run slipway(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(root.resolve("slipway").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        Map<String, String> env = builder.environment();
        env.put("SLIPWAY_HOME", home.toString());
        env.remove("XDG_RUNTIME_DIR");
        env.remove("SLIPWAY_RUNTIME_DIR");
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("slipway " + String.join(" ", args) + " did not finish");
        }
        Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return run;
    }

    private static Run command(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish");
        }
        return new Run(process.exitValue(), out, err);
    }

    /**
     * up -d returns once the guest namespace has its address, so a request from the guest right
     * after it works: a host server on loopback, reached through the host alias, every time. The
     * suite runs {@code slipway.upGuestRuns} cycles (default 5, about a minute);
     * {@code bench/up-guest.sh 100} runs the hundred.
     */
    @Test
    void aGuestRequestRightAfterUpSucceedsEveryTime() throws Exception {
        Prerequisites.assumeRoot("the embedded guest namespace (ip netns add, a tap device)");
        Prerequisites.assumeTun();
        Prerequisites.assumeCommands("ip", "busybox", "curl");
        int runs = Integer.getInteger("slipway.upGuestRuns", 5);
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = "from the host\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://192.168.65.254:" + server.getAddress().getPort() + "/";
            for (int i = 1; i <= runs; i++) {
                Run up = slipway("up", "-d", "--netns", NETNS);
                assertEquals(0, up.exitCode(), "run " + i + ": " + up.out() + up.err());
                Run request = command("ip", "netns", "exec", NETNS, "curl", "-sS", "--max-time", "5", url);
                assertEquals(0, request.exitCode(), "run " + i + " of " + runs + ": the guest's request right after up -d: "
                        + request.err() + "\nup said: " + up.out() + up.err());
                assertEquals("from the host\n", request.out(), "run " + i);
                Run down = slipway("down");
                assertEquals(0, down.exitCode(), "run " + i + ": " + down.err());
            }
        } finally {
            server.stop(0);
        }
    }

    private JsonObject status() throws Exception {
        Run run = slipway("status", "--json");
        assertEquals(0, run.exitCode(), run.err());
        return JsonParser.parseString(run.out()).getAsJsonObject();
    }

    private static String stateOf(JsonObject status, String symbolicName, String version) {
        for (JsonElement element : status.getAsJsonArray("bundles")) {
            JsonObject bundle = element.getAsJsonObject();
            if (symbolicName.equals(bundle.get("symbolicName").getAsString())
                    && (version == null || version.equals(bundle.get("version").getAsString()))) {
                return bundle.get("state").getAsString();
            }
        }
        return null;
    }

    @Test
    void upStatusDeployShellDown() throws Exception {
        Run up = slipway("up", "-d", "--netns", NETNS);
        assertEquals(0, up.exitCode(), up.out() + up.err());
        assertTrue(up.out().contains("Slipway is up"), up.out());

        if ("root".equals(System.getProperty("user.name"))) {
            // the main job as root: the embedded guest namespace, attached through the tap transport
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(Path.of("/run/netns", NETNS)) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(Path.of("/run/netns", NETNS)), "as root, up creates the guest namespace " + NETNS);
            JsonObject guest = status().getAsJsonObject("guest");
            if (Prerequisites.onPath("busybox") && Files.exists(Path.of("/dev/net/tun"))) {
                // up -d returned once the guest had its address: nothing to wait for here
                assertTrue(guest.get("ready").getAsBoolean(), guest.toString());
                assertTrue(up.out().contains("guest namespace " + NETNS + " has " + guest.get("address").getAsString()), up.out());
                Run exec = command("ip", "netns", "exec", NETNS, "true");
                assertEquals(0, exec.exitCode());
                assertEquals("", exec.out() + exec.err(), "ip netns exec prints nothing (no owner file under /etc/netns/" + NETNS + ")");
            }
        }

        Run second = slipway("up", "-d", "--netns", NETNS);
        assertNotEquals(0, second.exitCode());
        assertTrue(second.err().contains("already running"), second.err());

        JsonObject status = status();
        assertTrue(status.get("ready").getAsBoolean());
        assertTrue(status.get("uptimeMs").getAsLong() > 0);
        assertEquals("ACTIVE", stateOf(status, "dev.slipway.control", null));
        assertEquals("ACTIVE", stateOf(status, "dev.slipway.platform.linux", null));
        assertEquals("INSTALLED", stateOf(status, "dev.slipway.platform.macos", null));
        assertTrue(status.toString().contains("osgi.native"), "an unresolved bundle shows its missing requirement");
        assertEquals("linux", status.getAsJsonObject("platform").get("os").getAsString());

        Path notABundle = home.resolve("plain.jar");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(notABundle), new Manifest())) {
            jar.flush();
        }
        Run refused = slipway("deploy", notABundle.toString());
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("not an OSGi bundle"), refused.err());
        Files.writeString(home.resolve("garbage.jar"), "not a zip", StandardCharsets.UTF_8);
        Run garbage = slipway("deploy", home.resolve("garbage.jar").toString());
        assertEquals(1, garbage.exitCode());
        assertTrue(garbage.err().contains("nothing was deployed"), garbage.err());
        try (var files = Files.list(home.resolve("deploy"))) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".jar")), "refused files never reach deploy/");
        }
        assertTrue(status().get("ready").getAsBoolean(), "the runtime is untouched by refused deploys");

        Path newer = NewerBundle.withVersion(NewerBundle.distJar("dev.slipway.platform.linux"), "0.1.3", home.resolve("platform-newer.jar"));
        Run deployed = slipway("deploy", newer.toString());
        assertEquals(0, deployed.exitCode(), deployed.out() + deployed.err());
        JsonObject after = status();
        assertEquals("ACTIVE", stateOf(after, "dev.slipway.platform.linux", "0.1.3"));
        assertEquals(null, stateOf(after, "dev.slipway.platform.linux", "0.1.0.SNAPSHOT"), "the old version is gone");
        assertEquals("0.1.3", after.getAsJsonObject("platform").get("bundleVersion").getAsString());

        Run bundles = slipway("bundles");
        assertEquals(0, bundles.exitCode());
        assertTrue(bundles.out().contains("dev.slipway.platform.linux"), bundles.out());

        Run dockerEnv = slipway("docker-env");
        assertEquals(1, dockerEnv.exitCode(), dockerEnv.out() + dockerEnv.err());
        assertTrue(dockerEnv.err().contains("no docker engine is configured"), dockerEnv.err());
        Run version = slipway("--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.out().matches("slipway \\d+\\.\\d+\\.\\d+.*\\n"), version.out());

        Run unknown = slipway("no-such-command");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown command"), unknown.err());

        Path shellInput = home.resolve("shell-input.txt");
        Files.writeString(shellInput, "lb\nexit\n");
        ProcessBuilder shell = new ProcessBuilder(root.resolve("slipway").toString(), "shell").directory(root.toFile())
                .redirectInput(shellInput.toFile());
        shell.environment().put("SLIPWAY_HOME", home.toString());
        shell.environment().remove("XDG_RUNTIME_DIR");
        Process shellProcess = shell.start();
        String shellOut = new String(shellProcess.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(shellProcess.waitFor(60, TimeUnit.SECONDS));
        assertTrue(shellOut.contains("Slipway control API"), shellOut);

        Run down = slipway("down");
        assertEquals(0, down.exitCode(), down.err());
        assertEquals(3, slipway("status").exitCode());
        assertFalse(Files.exists(home.resolve("run/control.sock")));
        assertFalse(Files.exists(Path.of("/run/netns", NETNS)), "down removes the guest namespace");
    }

    @Test
    void aKilledRuntimeLeavesNothingThatBlocksTheNextStart() throws Exception {
        assertEquals(0, slipway("up", "-d", "--netns", NETNS).exitCode());
        boolean root = "root".equals(System.getProperty("user.name"));
        Path namespace = Path.of("/run/netns", NETNS);
        Path owner = Path.of("/run/slipway-netns", NETNS + ".owner");
        if (root) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(owner) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(namespace) && Files.exists(owner), "as root, up creates the guest namespace " + NETNS);
        }
        long pid = status().get("pid").getAsLong();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        assertTrue(Files.exists(home.resolve("run/control.sock")), "the killed runtime left its socket behind");
        if (root) {
            assertTrue(Files.exists(namespace), "the killed runtime left its namespace behind");
        }

        Run status = slipway("status");
        assertEquals(3, status.exitCode(), status.out() + status.err());

        Run up = slipway("up", "-d", "--netns", NETNS);
        assertEquals(0, up.exitCode(), up.out() + up.err());
        long next = status().get("pid").getAsLong();
        assertNotEquals(pid, next);
        if (root) {
            // the leftover namespace is recognised by its owner file and made anew for the new runtime
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(owner).startsWith(next + " ") && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(Files.readString(owner).startsWith(next + " "), "the new runtime owns the namespace");
            String log = Files.readString(home.resolve("run/slipway.log"));
            assertTrue(log.contains("removed the guest namespace '" + NETNS + "' left by a runtime that was killed"), log);
        }
    }

    @Test
    void aNamespaceSlipwayDidNotMakeIsLeftAlone() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root: creating a network namespace (ip netns add)");
        assertEquals(0, new ProcessBuilder("ip", "netns", "add", NETNS).inheritIO().start().waitFor());
        try {
            Run up = slipway("up", "-d", "--netns", NETNS);
            assertEquals(0, up.exitCode(), "the runtime still serves VMs over its sockets: " + up.out() + up.err());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String log = "";
            while (!log.contains("was not made by Slipway") && System.nanoTime() < until) {
                Thread.sleep(100);
                log = Files.readString(home.resolve("run/slipway.log"));
            }
            assertTrue(log.contains("a network namespace '" + NETNS + "' exists and was not made by Slipway"), log);
            assertTrue(Files.exists(Path.of("/run/netns", NETNS)), "the foreign namespace is untouched");
            assertEquals(0, slipway("down").exitCode());
            assertTrue(Files.exists(Path.of("/run/netns", NETNS)), "down leaves the foreign namespace alone");
        } finally {
            new ProcessBuilder("ip", "netns", "del", NETNS).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
