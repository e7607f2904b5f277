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
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.testing.GuestImage;

/**
 * "An administrator installs, a user runs", with the real ./slipway and real accounts: root installs
 * the helper with no runtime running; a user in the group, not root, starts the runtime, publishes a
 * port below 1024 (bound by the helper) and turns the hosts block on; a user outside the group is
 * refused; root uninstalls and the machine is as it was. Needs root, useradd and setpriv; the
 * install's hosts file, bin dir, docker.sock, audit log and VM directory are the test's own, and
 * /etc/hosts is compared and restored byte for byte anyway.
 *
 * <p>The VM part: the member starts the VM through the helper ({@code slipway vm start}); QEMU runs
 * as the member in its seccomp sandbox, on the network connection the helper made to the member's
 * runtime; the guest (Debian's kernel and a busybox initramfs, {@link GuestImage}) takes its DHCP
 * lease from the member's runtime and fetches a page from a server on the host's 127.0.0.1 through
 * {@code host.docker.internal}; the member reads the console with {@code slipway vm logs}, stops
 * the VM, starts it again, and the uninstall stops it and keeps its disk. Without QEMU, a kernel or
 * a static busybox the rest still runs and the test then reports itself skipped, saying what is
 * missing. All the test's files live under a root-owned 0755 directory in /var/lib (the helper
 * trusts no directory chain through the world-writable /tmp).
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
        Optional<String> noVm = GuestImage.missing();
        noVm.ifPresent(why -> System.out.println("HelperInstallEndToEndTest: the VM part is skipped: " + why));
        byte[] etcHosts = Files.readAllBytes(ETC_HOSTS);
        // the helper connects the VM to the member's runtime only through directories root or the member
        // owns and nobody else may write: not through /tmp. Not in /opt either: install checks the whole
        // tree of the install dir's parent, and the users' homes are theirs.
        Path dir = Files.createDirectory(Path.of("/var/lib/slipway-e2e-" + SUFFIX + "-test"));
        List<List<String>> cleanup = new ArrayList<>();
        Path rootHome = dir.resolve("root-home");
        boolean installed = false;
        long vmPid = -1;
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path hosts = dir.resolve("hosts");
            String hostsBefore = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";
            Files.writeString(hosts, hostsBefore);
            Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
            Path bin = Files.createDirectories(dir.resolve("bin"));
            Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String user : List.of(MEMBER, OUTSIDER)) {
                // the home the helper looks up for the member's VM socket (~/.slipway/run/vm.sock)
                run(List.of("useradd", "--no-create-home", "--home-dir", dir.resolve(user).toString(), "--shell",
                        "/usr/sbin/nologin", user));
                cleanup.add(0, List.of("userdel", user));
            }
            Path memberHome = home(dir, MEMBER);
            Path outsiderHome = home(dir, OUTSIDER);
            Files.createDirectories(rootHome);
            // the CLI's class-data archive is written into the distribution by its first run; the users may not write there
            assertEquals(0, slipway(List.of(), rootHome, "help").exitCode());

            Path vmDir = dir.resolve("vm");
            List<String> vmSettings = noVm.isPresent() ? List.of() : guest(dir, vmDir);

            // An administrator installs; no runtime runs anywhere. SUDO_USER is the member, who joins the group.
            List<String> installArgs = new ArrayList<>(List.of("helper", "install", "--group", GROUP,
                    "--install-dir", installDir.toString(), "--setting", "hosts-file=" + hosts, "--setting", "bin-dir=" + bin,
                    "--setting", "docker-sock=" + dir.resolve("docker.sock"), "--setting", "audit-log=" + dir.resolve("audit.log"),
                    "--setting", "vm-dir=" + vmDir));
            installArgs.addAll(vmSettings);
            Run install = slipway(List.of(), rootHome, Map.of("SUDO_USER", MEMBER), installArgs.toArray(String[]::new));
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
                if (noVm.isEmpty()) {
                    vmPid = userRunsTheVm(asMember, memberHome, vmDir);
                }

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
            if (vmPid > 0) {
                // as documented: uninstall stops the VM and keeps its disk (--remove-disk would delete it)
                assertTrue(uninstall.out().contains("vm.stop: done"), uninstall.out());
                assertTrue(uninstall.out().contains("the VM's disk, if there is one, is kept in " + vmDir), uninstall.out());
                assertTrue(awaitGone(vmPid), "uninstall stopped the emulator " + vmPid);
                assertTrue(Files.isRegularFile(vmDir.resolve("slipway-vm.img"), LinkOption.NOFOLLOW_LINKS), "the disk is kept");
            }
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
            if (http != null) {
                http.stop(0);
            }
            if (vmPid > 0) { // the emulator this test started, if a failure left it running
                ProcessHandle.of(vmPid).filter(p -> p.info().command().orElse("").contains("qemu-system"))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
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
        noVm.ifPresent(why -> Assumptions.abort("all but the VM part passed; the VM part " + why));
    }

    /**
     * The guest the install boots: Debian's kernel and a busybox initramfs whose init script fetches
     * a page from {@link #http} through host.docker.internal and prints it on the console, copied
     * into a root-owned 0755 directory the emulator's unprivileged account can read. Returns the
     * install's VM settings.
     */
    private List<String> guest(Path dir, Path vmDir) throws IOException {
        GuestImage.Kernel kernel = GuestImage.installedKernel().orElseThrow();
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", exchange -> {
            requests.incrementAndGet();
            byte[] body = ("hello from the host " + SUFFIX + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        http.start();
        Path guest = Files.createDirectory(dir.resolve("guest"));
        Files.setPosixFilePermissions(guest, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path vmlinuz = guest.resolve("vmlinuz");
        Files.copy(kernel.image(), vmlinuz);
        Path initrd = guest.resolve("initrd.cpio");
        GuestImage.busybox(kernel, GuestImage.prologue() + """
                echo SLIPWAY-HTTP $(wget -O - http://host.docker.internal:@PORT@/ 2>/dev/null)
                echo SLIPWAY-DONE
                while true; do sleep 60; done
                """.replace("@PORT@", Integer.toString(http.getAddress().getPort()))).writeCpio(initrd);
        for (Path file : List.of(vmlinuz, initrd)) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return List.of("--setting", "vm-kernel=" + vmlinuz, "--setting", "vm-initrd=" + initrd, "--setting", "vm-memory-mb=256",
                "--setting", "vm-cpus=1", "--setting", "vm-disk-gb=1");
    }

    private HttpServer http;
    private final AtomicInteger requests = new AtomicInteger();

    /**
     * The member starts the VM through the helper, reads its console, sees its lease, stops it and
     * starts it again (the uninstall then stops it). Returns the running emulator's pid.
     */
    private long userRunsTheVm(List<String> asUser, Path home, Path vmDir) throws Exception {
        try {
            long t0 = System.nanoTime();
            Run start = slipway(asUser, home, "vm", "start");
            assertEquals(0, start.exitCode(), start.all());
            assertTrue(start.out().contains("created "), "the first start creates the VM: " + start.out());
            long pid = pid(start);
            assertEmulatorUnprivileged(pid, uid(MEMBER));
            System.out.printf("HelperInstallEndToEndTest: vm start took %.1f s (emulator pid %d)%n", (System.nanoTime() - t0) / 1e9, pid);

            // the console as the member reads it, through the helper's status and the group-readable log
            String console = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && !console.contains("SLIPWAY-DONE")) {
                TimeUnit.SECONDS.sleep(2);
                Run logs = slipway(asUser, home, "vm", "logs", "500");
                assertEquals(0, logs.exitCode(), logs.all());
                console = logs.out();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(console.contains("SLIPWAY-DONE"), "the guest finished its script within 120 s; console:\n" + console
                    + "\nemulator:\n" + readIfThere(vmDir.resolve("emulator.log")));
            System.out.printf("HelperInstallEndToEndTest: vm start to the guest's page from the host: %.1f s%n", seconds);
            List<String> lease = GuestImage.lines(console, "SLIPWAY-LEASE");
            assertEquals(1, lease.size(), console);
            assertTrue(lease.get(0).contains("ip=192.168.65.") && lease.get(0).contains("router=192.168.65.1"), lease.get(0));
            assertEquals(List.of("SLIPWAY-HTTP hello from the host " + SUFFIX), GuestImage.lines(console, "SLIPWAY-HTTP").stream()
                    .map(String::strip).toList(), console);
            assertTrue(requests.get() >= 1, "the host's server was reached");

            // the member's runtime gave the lease
            Run net = slipway(asUser, home, "net", "status");
            assertEquals(0, net.exitCode(), net.all());
            assertTrue(net.out().contains("52:54:00:53:4c:01"), "the guest's lease in the runtime's status: " + net.out());

            Run status = slipway(asUser, home, "vm", "status");
            assertTrue(status.out().contains("running") && (status.out().contains("tcg") || status.out().contains("kvm")), status.out());
            assertTrue(status.out().contains(MEMBER), "the VM belongs to the member: " + status.out());

            Run stop = slipway(asUser, home, "vm", "stop");
            assertEquals(0, stop.exitCode(), stop.all());
            assertTrue(awaitGone(pid), "vm stop ended the emulator " + pid);
            assertTrue(Files.isRegularFile(vmDir.resolve("slipway-vm.img"), LinkOption.NOFOLLOW_LINKS), "stop keeps the disk");

            // started again (the disk is there: no "created"); the uninstall stops this one
            Run again = slipway(asUser, home, "vm", "start");
            assertEquals(0, again.exitCode(), again.all());
            assertFalse(again.out().contains("created "), again.out());
            long second = pid(again);
            assertEmulatorUnprivileged(second, uid(MEMBER));
            return second;
        } finally {
            http.stop(0);
        }
    }

    private static long pid(Run start) {
        return start.out().lines().filter(l -> l.startsWith("pid:")).map(l -> Long.parseLong(l.substring(4).strip()))
                .findFirst().orElseThrow(() -> new AssertionError("no pid in: " + start.all()));
    }

    /** QEMU runs as {@code uid}, never root, with its seccomp filter and no new privileges. */
    private static void assertEmulatorUnprivileged(long pid, String uid) throws IOException {
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("qemu-system") && cmdline.contains("-sandbox"), cmdline);
        String uids = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        assertEquals(List.of(uid, uid, uid, uid), List.of(uids.substring(4).strip().split("\\s+")), "QEMU runs as the member: " + uids);
        assertTrue(status.contains("Seccomp:\t2"), "QEMU's seccomp filter is on: " + status);
        assertTrue(status.contains("NoNewPrivs:\t1"), status);
    }

    private static String uid(String user) throws Exception {
        return run(List.of("id", "-u", user)).strip();
    }

    /** Waits (at most 30 s) until process {@code pid} is gone. */
    private static boolean awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!Files.exists(Path.of("/proc", Long.toString(pid)))) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return false;
    }

    private static String readIfThere(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(" + e + ")";
        }
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
        // root runs the checkout's CLI; the users run the installed one, as on a machine the administrator
        // set up (and the checkout may lie where other users cannot read, such as root's home)
        boolean asUser = !prefix.isEmpty();
        List<String> command = new ArrayList<>(prefix);
        command.add((asUser ? installDir.resolve("bin/slipway") : root.resolve("slipway")).toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory((asUser ? installDir : root).toFile());
        Map<String, String> env = builder.environment();
        env.put("SLIPWAY_HOME", home.resolve(".slipway").toString()); // the helper finds the VM socket in ~/.slipway/run
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
