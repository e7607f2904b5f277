package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "An administrator installs, a user runs", with the real ./slipway and real accounts: root installs
 * the helper with no runtime running; a user in the group, not root, starts the runtime, publishes a
 * port below 1024 (bound by the helper) and turns the hosts block on; a user outside the group is
 * refused; root uninstalls and the machine is as it was. Needs root, useradd and setpriv; the
 * install's hosts file, bin dir, docker.sock and audit log are the test's own, and /etc/hosts is
 * compared and restored byte for byte anyway.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class HelperInstallEndToEndTest {

    record Run(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private static final String SUFFIX = Integer.toString(ThreadLocalRandom.current().nextInt(10_000, 99_999));
    private static final String GROUP = "slwig" + SUFFIX;
    private static final String MEMBER = "slwim" + SUFFIX;
    private static final String OUTSIDER = "slwio" + SUFFIX;
    private static final Path ETC_HOSTS = Path.of("/etc/hosts");
    /** What an install makes outside the test's own directories; none may be there before, all must be gone after. */
    private static final List<Path> SYSTEM_LOCATIONS = List.of(Path.of("/etc/slipway"), Path.of("/run/slipway"),
            Path.of("/var/lib/slipway"), Path.of("/var/log/slipway"), Path.of("/etc/systemd/system/slipway-helper.service"),
            Path.of("/etc/tmpfiles.d/slipway-helper.conf"));

    private final Path root = Path.of(System.getProperty("slipway.root", "..")).toAbsolutePath().normalize();
    private final Path installDir = Path.of("/opt/slipway-e2e-" + SUFFIX);

    @Test
    void anAdministratorInstallsAUserRunsAnOutsiderIsRefusedAndUninstallLeavesNoTrace() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root (CI runs as root): installs the helper, adds users");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "needs useradd and setpriv: apt-get install -y passwd util-linux");
        for (Path location : SYSTEM_LOCATIONS) {
            Assumptions.assumeFalse(Files.exists(location, LinkOption.NOFOLLOW_LINKS),
                    location + " exists: a Slipway helper is installed on this machine and the test would change it");
        }
        byte[] etcHosts = Files.readAllBytes(ETC_HOSTS);
        Path dir = Files.createTempDirectory("slipway-install-e2e-");
        List<List<String>> cleanup = new ArrayList<>();
        Path rootHome = dir.resolve("root-home");
        boolean installed = false;
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path hosts = dir.resolve("hosts");
            String hostsBefore = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";
            Files.writeString(hosts, hostsBefore);
            Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
            Path bin = Files.createDirectories(dir.resolve("bin"));
            Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String user : List.of(MEMBER, OUTSIDER)) {
                run(List.of("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user));
                cleanup.add(0, List.of("userdel", user));
            }
            Path memberHome = home(dir, MEMBER);
            Path outsiderHome = home(dir, OUTSIDER);
            Files.createDirectories(rootHome);
            // the CLI's class-data archive is written into the distribution by its first run; the users may not write there
            assertEquals(0, slipway(List.of(), rootHome, "help").exitCode());

            // An administrator installs; no runtime runs anywhere. SUDO_USER is the member, who joins the group.
            Run install = slipway(List.of(), rootHome, Map.of("SUDO_USER", MEMBER), "helper", "install", "--group", GROUP,
                    "--install-dir", installDir.toString(), "--setting", "hosts-file=" + hosts, "--setting", "bin-dir=" + bin,
                    "--setting", "docker-sock=" + dir.resolve("docker.sock"), "--setting", "audit-log=" + dir.resolve("audit.log"));
            installed = true;
            assertEquals(0, install.exitCode(), install.all());
            assertTrue(install.out().contains("user " + MEMBER + " is in group " + GROUP), install.out());
            assertTrue(install.out().contains("service: running (pid "), install.out());
            assertTrue(Files.isRegularFile(installDir.resolve("bin/slipway-helper")), "the distribution was copied into the install dir");
            assertTrue(run(List.of("id", "-nG", MEMBER)).contains(GROUP));
            Run status = slipway(List.of(), rootHome, "helper", "status");
            assertEquals(0, status.exitCode(), status.all());
            assertTrue(status.out().contains("helper: serving on /run/slipway/helper.sock"), status.out());

            // A user in the group, not root, runs Slipway.
            List<String> asMember = as(MEMBER);
            Run up = slipway(asMember, memberHome, "up", "-d");
            try {
                assertEquals(0, up.exitCode(), up.all());
                int port = privilegedPort();
                Run expose = slipway(asMember, memberHome, "expose", "tcp", "127.0.0.1:" + port, "192.168.65.3:80");
                assertEquals(0, expose.exitCode(), expose.all());
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000); // accepted by the user's runtime
                }
                assertTrue(slipway(asMember, memberHome, "ports").out().contains("127.0.0.1:" + port));
                Run hostsOn = slipway(asMember, memberHome, "settings", "set", "hosts.entries", "on");
                assertEquals(0, hostsOn.exitCode(), hostsOn.all());
                assertTrue(Files.readString(hosts).contains("127.0.0.1 kubernetes.docker.internal"), Files.readString(hosts));
                assertTrue(slipway(asMember, memberHome, "helper", "status").out().contains("helper: serving"));
                userRunsTheVm(asMember, memberHome);

                // A user outside the group: clear refusals, nothing changes.
                List<String> asOutsider = as(OUTSIDER);
                Run outsiderStatus = slipway(asOutsider, outsiderHome, "helper", "status");
                assertNotEquals(0, outsiderStatus.exitCode());
                assertTrue(outsiderStatus.all().contains("ermission denied") || outsiderStatus.all().contains("not in group " + GROUP),
                        outsiderStatus.all());
                Run outsiderInstall = slipway(asOutsider, outsiderHome, "helper", "uninstall");
                assertNotEquals(0, outsiderInstall.exitCode());
                assertTrue(outsiderInstall.all().contains("needs an administrator"), outsiderInstall.all());
                assertTrue(Files.readString(hosts).contains("kubernetes.docker.internal"), "the outsider changed nothing");

                assertEquals(0, slipway(asMember, memberHome, "down").exitCode());
            } finally {
                slipway(asMember, memberHome, "down");
            }

            // The administrator uninstalls: the machine is as it was.
            Run uninstall = slipway(List.of(), rootHome, "helper", "uninstall");
            installed = false;
            assertEquals(0, uninstall.exitCode(), uninstall.all());
            assertEquals(hostsBefore, Files.readString(hosts), "the hosts block is gone, the rest untouched");
            assertFalse(Files.exists(installDir), "the install dir copy is removed");
            for (Path location : SYSTEM_LOCATIONS) {
                assertFalse(Files.exists(location, LinkOption.NOFOLLOW_LINKS), location + " is left behind: " + uninstall.all());
            }
            assertNotEquals(0, new ProcessBuilder("getent", "group", GROUP).start().waitFor(), "the group install made is removed");
            assertFalse(run(List.of("id", "-nG", MEMBER)).contains(GROUP));
            try (Stream<Path> links = Files.list(bin)) {
                assertEquals(0, links.count(), "no CLI links are left");
            }
            assertArrayEquals(etcHosts, Files.readAllBytes(ETC_HOSTS), "/etc/hosts was never touched");
        } finally {
            if (installed) {
                slipway(List.of(), rootHome, "helper", "uninstall"); // in the test's home: never another runtime's
            }
            for (List<String> command : cleanup) {
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                        .waitFor(2, TimeUnit.MINUTES);
            }
            new ProcessBuilder("groupdel", GROUP).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(30, TimeUnit.SECONDS);
            if (!java.util.Arrays.equals(etcHosts, Files.readAllBytes(ETC_HOSTS))) {
                Files.write(ETC_HOSTS, etcHosts);
            }
            delete(installDir);
            delete(dir);
        }
    }

    /**
     * The VM part of the journey belongs here (the member creates and starts the VM through the
     * helper, a container answers on the published port); it is the VM work's, not yet written.
     */
    private void userRunsTheVm(List<String> asUser, Path home) {
        System.out.println("HelperInstallEndToEndTest: the VM part of the journey is not covered yet");
    }

    /** 80 if it is free, else the first free port below 1024 from 81 up (the test shares its machine). */
    private static int privilegedPort() throws IOException {
        for (int port = 80; port < 1024; port++) {
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // next
            }
        }
        throw new IOException("no free port below 1024 on 127.0.0.1");
    }

    private static Path home(Path dir, String user) throws Exception {
        Path home = Files.createDirectories(dir.resolve(user));
        run(List.of("chown", user + ":", home.toString()));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        return home;
    }

    private static List<String> as(String user) {
        return List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--");
    }

    private Run slipway(List<String> prefix, Path home, String... args) throws Exception {
        return slipway(prefix, home, Map.of(), args);
    }

    private Run slipway(List<String> prefix, Path home, Map<String, String> extraEnv, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.add(root.resolve("slipway").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        Map<String, String> env = builder.environment();
        env.put("SLIPWAY_HOME", home.toString());
        env.put("HOME", home.toString());
        env.remove("XDG_RUNTIME_DIR");
        env.remove("SLIPWAY_RUNTIME_DIR");
        env.remove("SUDO_USER");
        env.putAll(extraEnv);
        Process process = builder.start();
        process.getOutputStream().close();
        StringBuilder err = new StringBuilder();
        Thread errors = new Thread(() -> {
            try {
                err.append(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.append(e);
            }
        });
        errors.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(4, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("slipway " + String.join(" ", args) + " did not finish");
        }
        errors.join(10_000);
        return new Run(process.exitValue(), out, err.toString());
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    private static void delete(Path tree) throws IOException {
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
