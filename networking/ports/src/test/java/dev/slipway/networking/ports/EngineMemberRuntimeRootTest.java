package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.helper.portsbind.PortsBindOperation;
import dev.slipway.helper.server.Helper;
import dev.slipway.helper.vm.EngineVm;
import dev.slipway.helper.vm.VmOperations;
import dev.slipway.platform.linux.LinuxAccountDirectory;
import dev.slipway.process.ProcessCommandRunner;
import dev.slipway.testing.ClassPaths;
import dev.slipway.testing.Commands;
import dev.slipway.testing.GuestImage;
import dev.slipway.testing.Prerequisites;
import dev.slipway.testing.TestUsers;

/**
 * The engine with the runtime as it is meant to run: the helper as root (ports.bind and the vm
 * operations, in this JVM), the runtime as a member of the helper's group (its own JVM, through the
 * helper's socket), the VM started by that member through the helper (QEMU as {@code nobody}). One
 * TCG boot for the class. {@code -p PORT:80} with PORT below 1024 (80 when free) is served through
 * the helper's {@code ports.bind} and curl on the host gets the page; a runtime that stops and
 * starts again while the VM runs gets the engine channel back ({@code vm.attach-engine}), the
 * docker CLI works again and the running container's port is published again, and served: the new
 * runtime got the VM's network card back too ({@code vm.attach-network}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300)
class EngineMemberRuntimeRootTest {
    static final String IMAGE = EngineLab.IMAGE;
    static final Duration DOCKER = Duration.ofSeconds(120);

    TestUsers users;
    String member;
    Path root;
    Path home;
    Path run;
    Path dockerConfig;
    Path vmDir;
    String classPath;
    Helper helper;
    Path helperSocket;
    Path auditLog;
    Process runtime;
    final List<String> runtimeOutput = new CopyOnWriteArrayList<>();

    @BeforeAll
    @Timeout(value = 900)
    void boot() throws Exception {
        Prerequisites.assumeRoot("runs the helper as root and the runtime as a group member");
        GuestImage.assumeAvailable();
        Prerequisites.assumeCommands("docker", "curl");
        Assumptions.assumeTrue(Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).get(0).trim()) > 80,
                "needs net.ipv4.ip_unprivileged_port_start above 80, so that the runtime's own bind is refused");
        Path[] image = EngineLab.image();
        users = TestUsers.create("slwe", "creates users with useradd");
        try {
            member = users.member("m");
            Path base = Files.createDirectories(Path.of("/var/lib/slipway-engine-test-roots"));
            root = Files.createTempDirectory(base, "member");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            classPath = ClassPaths.readableCopy(root.resolve("cp"));
            home = Files.createDirectories(root.resolve("home"));
            run = Files.createDirectories(home.resolve(".slipway/run"));
            dockerConfig = Files.createDirectories(home.resolve("docker-config"));
            for (Path p : List.of(home, home.resolve(".slipway"), run, dockerConfig)) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(p.equals(home) ? "rwxr-xr-x" : "rwx------"));
                TestUsers.own(p, member);
            }
            vmDir = root.resolve("vm");
            startHelper(image);
            runtime = startRuntime(true);
            awaitConsole("SLIPWAY-ENGINE-READY", Duration.ofSeconds(600));
            await("the docker CLI through the engine channel", Duration.ofSeconds(60), () -> dockerQuietly("version").exit() == 0);
        } catch (Exception | AssertionError e) {
            stop();
            throw e;
        }
    }

    private void startHelper(Path[] image) throws IOException {
        Path dir = Files.createDirectories(root.resolve("helper/run"));
        helperSocket = dir.resolve("helper.sock");
        auditLog = root.resolve("helper/audit.log");
        LinuxAccountDirectory system = new LinuxAccountDirectory(new ProcessCommandRunner());
        AccountDirectory accounts = new AccountDirectory() {
            @Override
            public Set<String> groupMembers(String group) throws IOException {
                return system.groupMembers(group);
            }

            @Override
            public boolean groupExists(String group) throws IOException {
                return system.groupExists(group);
            }

            @Override
            public Optional<Path> homeDirectory(String user) {
                return user.equals(member) ? Optional.of(home) : Optional.empty();
            }
        };
        Map<String, String> settings = Map.of(
                HelperSettings.GROUP, users.group(),
                HelperSettings.VM_DIR, vmDir.toString(),
                HelperSettings.VM_KERNEL, image[0].toString(),
                HelperSettings.VM_INITRD, image[1].toString(),
                HelperSettings.VM_CMDLINE, "console=ttyS0 quiet panic=-1",
                HelperSettings.VM_MEMORY_MB, "1536",
                // one vCPU: under TCG on a busy host, a second one spins on locks the first holds (soft lockups)
                HelperSettings.VM_CPUS, "1",
                HelperSettings.VM_DISK_GB, "1",
                HelperSettings.VM_USER, EngineVm.EMULATOR_USER,
                HelperSettings.VM_EMULATOR, GuestImage.EMULATOR);
        VmOperations vm = new VmOperations(key -> Optional.ofNullable(settings.get(key)), accounts);
        helper = new Helper(new Helper.Config(helperSocket, users.group(), Optional.empty(), auditLog, "test",
                new Helper.Limits(16, 4, Duration.ofSeconds(30))), accounts, Clock.systemUTC());
        helper.register(HelperSchema.PORTS_BIND, new PortsBindOperation(key -> Optional.empty()));
        for (String op : List.of(HelperSchema.VM_CREATE, HelperSchema.VM_START, HelperSchema.VM_STOP, HelperSchema.VM_STATUS,
                HelperSchema.VM_ATTACH_ENGINE, HelperSchema.VM_ATTACH_NETWORK)) {
            helper.register(op, vm);
        }
        helper.start();
        vmOperations = vm;
    }

    VmOperations vmOperations;

    /** The runtime as the member; returns once it printed UP (after starting the VM when {@code start}). */
    private Process startRuntime(boolean start) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Djna.tmpdir=/tmp", "-XX:TieredStopAtLevel=1",
                "-cp", classPath, EngineRuntimeMain.class.getName(), helperSocket.toString(), run.toString(), dockerConfig.toString()));
        if (start) {
            command.add("start");
        }
        Process p = TestUsers.as(member, home, command.toArray(String[]::new)).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> {
            try {
                for (String line = out.readLine(); line != null && runtimeOutput.size() < 20_000; line = out.readLine()) {
                    runtimeOutput.add(line);
                }
            } catch (IOException e) {
                // the runtime ended
            }
        }, "engine-runtime-output");
        reader.setDaemon(true);
        reader.start();
        await("the runtime to come up", Duration.ofSeconds(120), () -> runtimeOutput.contains("UP") || !p.isAlive());
        assertTrue(p.isAlive() && runtimeOutput.contains("UP"), () -> String.join("\n", runtimeOutput));
        return p;
    }

    private void stopRuntime() throws Exception {
        Process p = runtime;
        runtime = null;
        if (p == null) {
            return;
        }
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    void stop() throws Exception {
        try {
            stopRuntime();
        } finally {
            try {
                if (vmDir != null && Files.exists(vmDir.resolve("console.log"))) {
                    Files.copy(vmDir.resolve("console.log"), Path.of("target/engine-member-console.log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                Files.write(Path.of("target/engine-member-runtime.log"), runtimeOutput);
            } catch (IOException e) {
                // only for whoever reads a failure
            }
            if (vmOperations != null) {
                try {
                    vmOperations.handle(new HelperCall(0, HelperSchema.VM_STOP, Map.of(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME),
                            new HelperCall.Caller("root", "root"), descriptor -> {
                                throw new HelperException("failed", "no descriptors here");
                            }));
                } catch (HelperException e) {
                    System.err.println("stopping the VM: " + e.getMessage());
                }
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
    }

    private void awaitConsole(String marker, Duration timeout) throws Exception {
        Path console = vmDir.resolve("console.log");
        await("the guest's " + marker, timeout, () -> {
            try {
                return Files.exists(console) && Files.readString(console, StandardCharsets.ISO_8859_1).contains(marker);
            } catch (IOException e) {
                return false;
            }
        });
    }

    Commands.Out dockerQuietly(String... args) {
        try {
            return docker(args);
        } catch (Exception e) {
            return new Commands.Out(-1, "", e.toString());
        }
    }

    Commands.Out docker(String... args) throws Exception {
        String[] command = new String[args.length + 3];
        command[0] = "docker";
        command[1] = "--context";
        command[2] = "slipway";
        System.arraycopy(args, 0, command, 3, args.length);
        ProcessBuilder b = new ProcessBuilder(command);
        b.environment().put("DOCKER_CONFIG", dockerConfig.toString());
        b.environment().remove("DOCKER_HOST");
        b.environment().remove("DOCKER_CONTEXT");
        return Commands.run(DOCKER, b);
    }

    Commands.Out dockerOk(String... args) throws Exception {
        Commands.Out out = docker(args);
        assertEquals(0, out.exit(), () -> "docker " + String.join(" ", args) + ": " + out.stderr() + out.stdout()
                + "\nruntime:\n" + tail());
        return out;
    }

    private String tail() {
        List<String> lines = runtimeOutput;
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
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
            Thread.sleep(250);
        }
        fail("timed out waiting for " + what);
    }

    static String curl(int port) throws Exception {
        Commands.Out out = Commands.run(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/");
        return out.stdout() + out.stderr();
    }

    @Test
    @Order(1)
    void aPortBelow1024IsServedThroughTheHelperUntilTheContainerStops() throws Exception {
        int port = TestHelper.freePrivilegedPort();
        String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
        try {
            await("port " + port + " published", Duration.ofSeconds(60), () -> listening(port));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String page = "";
            while (System.nanoTime() < deadline && !page.contains("hello from a Slipway container")) {
                page = curl(port);
                if (!page.contains("hello from a Slipway container")) {
                    Thread.sleep(300);
                }
            }
            assertEquals("hello from a Slipway container\n", page);
            String audit = Files.readString(auditLog);
            assertTrue(audit.contains("ports.bind") && audit.contains("\"user\":\"" + member + "\""), audit);
        } finally {
            dockerOk("stop", "-t", "1", id);
            dockerOk("rm", id);
        }
        await("port " + port + " closed", Duration.ofSeconds(60), () -> !listening(port));
    }

    @Test
    @Order(2)
    void aRestartedRuntimeGetsTheEngineBackAndPublishesTheRunningContainersPortAgain() throws Exception {
        int port = TestHelper.freePrivilegedPort();
        String id = dockerOk("run", "-d", "-p", port + ":80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/var/www").stdout().strip();
        try {
            await("port " + port + " published", Duration.ofSeconds(60), () -> listening(port));
            stopRuntime();
            assertTrue(runtimeOutput.contains("DOWN"), this::tail);
            await("port " + port + " to close with the runtime", Duration.ofSeconds(30), () -> !listening(port));
            assertTrue(dockerQuietly("version").exit() != 0, "no engine while no runtime runs");

            runtime = startRuntime(false);
            await("the docker CLI through the new engine channel", Duration.ofSeconds(60), () -> dockerQuietly("version").exit() == 0);
            assertEquals("true", dockerOk("inspect", "-f", "{{.State.Running}}", id).stdout().strip());
            await("port " + port + " published again", Duration.ofSeconds(60), () -> listening(port));
            // the page comes through the VM's network card, which the new runtime got from the helper
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            String page = "";
            while (System.nanoTime() < deadline && !page.contains("hello from a Slipway container")) {
                page = curl(port);
                if (!page.contains("hello from a Slipway container")) {
                    Thread.sleep(300);
                }
            }
            assertEquals("hello from a Slipway container\n", page, this::tail);
            String audit = Files.readString(auditLog);
            assertTrue(audit.contains(HelperSchema.VM_ATTACH_ENGINE) && audit.contains("\"user\":\"" + member + "\""), audit);
            assertTrue(audit.lines().filter(l -> l.contains(HelperSchema.VM_ATTACH_NETWORK) && l.contains("\"user\":\"" + member + "\""))
                    .count() >= 2, "each runtime attached the network card: " + audit);
        } finally {
            dockerOk("rm", "-f", id);
        }
        await("port " + port + " closed", Duration.ofSeconds(60), () -> !listening(port));
        assertTrue(Collections.frequency(runtimeOutput, "UP") == 2, this::tail);
    }
}
