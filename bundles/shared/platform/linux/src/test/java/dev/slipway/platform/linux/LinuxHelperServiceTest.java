package dev.slipway.platform.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.CommandRunner;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class LinuxHelperServiceTest {

    /** systemd is PID 1; the group does not exist yet (getent answers 2). */
    private final LinuxHelperService service = new LinuxHelperService(
            (c, t) -> c.get(0).equals("getent") ? new CommandRunner.Result(2, "", "") : new CommandRunner.Result(0, "0\n", ""),
            () -> true, Path.of("/nonexistent/helper.pid"));

    private static InstallOptions allUsers(Optional<String> user) {
        return new InstallOptions(InstallOptions.Mode.ALL_USERS, user, "slipway-users", InstallOptions.Engine.VM, false,
                Path.of("/opt/slipway"), List.of("alice"));
    }

    private static List<List<String>> commands(SystemPlan plan) {
        return plan.steps().stream().filter(s -> s instanceof SystemPlan.RunCommand)
                .map(s -> ((SystemPlan.RunCommand) s).command()).toList();
    }

    private static String file(SystemPlan plan, Path path) {
        return plan.steps().stream().filter(s -> s instanceof SystemPlan.WriteFile w && w.path().equals(path))
                .map(s -> ((SystemPlan.WriteFile) s).content()).findFirst().orElseThrow();
    }

    @Test
    void installCreatesTheGroupTheUnitAndTheSocketDirectoryRuleThenStartsTheService() {
        SystemPlan plan = service.install(allUsers(Optional.empty()));
        assertEquals(List.of(
                List.of("groupadd", "--system", "slipway-users"),
                List.of("usermod", "--append", "--groups", "slipway-users", "alice"),
                List.of("systemd-tmpfiles", "--create", "/etc/tmpfiles.d/slipway-helper.conf"),
                List.of("systemctl", "daemon-reload"),
                List.of("systemctl", "enable", "--now", "slipway-helper.service"),
                List.of("systemctl", "try-restart", "slipway-helper.service")), commands(plan));
        assertTrue(file(plan, Path.of("/etc/slipway/install-record.properties")).contains("created-group=true\nadded-members=alice\n"));
        String unit = file(plan, Path.of("/etc/systemd/system/slipway-helper.service"));
        assertTrue(unit.contains("ExecStart=/opt/slipway/bin/slipway-helper --helper.config /etc/slipway/helper.properties\n"), unit);
        assertTrue(unit.contains("NoNewPrivileges=yes"));
        assertTrue(unit.contains("ProtectSystem=strict"));
        assertTrue(unit.contains("WantedBy=multi-user.target"));
        assertEquals("# Slipway helper: root-owned directory for its socket\nd /run/slipway 0755 root root -\n",
                file(plan, Path.of("/etc/tmpfiles.d/slipway-helper.conf")));
        String config = file(plan, Path.of("/etc/slipway/helper.properties"));
        assertTrue(config.contains("group=slipway-users\n") && !config.contains("user="), config);
    }

    @Test
    void userModeWritesTheOneUserIntoTheConfiguration() {
        String config = file(service.install(allUsers(Optional.of("alice"))), Path.of("/etc/slipway/helper.properties"));
        assertTrue(config.contains("user=alice\n"), config);
    }

    @Test
    void perUserInstallHasNoServiceAndSaysWhatIsUnavailable() {
        SystemPlan plan = service.install(new InstallOptions(InstallOptions.Mode.PER_USER, Optional.empty(), "slipway-users",
                InstallOptions.Engine.VM, false, Path.of("/home/alice/.local/share/slipway"), List.of()));
        assertTrue(plan.steps().isEmpty());
        assertTrue(plan.notes().get(0).contains("unavailable"));
    }

    @Test
    void uninstallStopsTheServiceAfterRemovingItsFiles() {
        List<SystemPlan.Step> steps = service.uninstall(allUsers(Optional.empty())).steps();
        int stop = steps.indexOf(new SystemPlan.RunCommand(List.of("systemctl", "stop", "slipway-helper.service"), true));
        int unit = steps.indexOf(new SystemPlan.RemoveFile(Path.of("/etc/systemd/system/slipway-helper.service")));
        int config = steps.indexOf(new SystemPlan.RemoveFile(Path.of("/etc/slipway/helper.properties")));
        assertTrue(unit >= 0 && config >= 0 && stop > unit && stop > config, steps.toString());
        assertTrue(commands(service.uninstall(allUsers(Optional.empty())))
                .contains(List.of("rmdir", "--ignore-fail-on-non-empty", "/var/lib/slipway")), "the helper's state dir goes when empty");
    }

    @Test
    void withoutSystemdAsPid1InstallStartsTheHelperItselfDetachedAndSaysSo(@org.junit.jupiter.api.io.TempDir Path dir) {
        LinuxHelperService noSystemd = new LinuxHelperService(
                (c, t) -> c.get(0).equals("getent") ? new CommandRunner.Result(0, "slipway-users:x:998:alice\n", "")
                        : new CommandRunner.Result(0, "0\n", ""), () -> false, dir.resolve("helper.pid"));
        SystemPlan plan = noSystemd.install(allUsers(Optional.empty()));
        List<List<String>> commands = commands(plan);
        assertTrue(commands.stream().noneMatch(c -> c.get(0).startsWith("systemctl") || c.get(0).equals("systemd-tmpfiles")), commands.toString());
        assertTrue(commands.stream().noneMatch(c -> c.get(0).equals("groupadd") || c.get(0).equals("usermod")),
                "the group exists and alice is in it already: " + commands);
        List<String> start = commands.get(commands.size() - 1);
        assertEquals(List.of("setsid", "--fork", "/bin/sh", "-c", LinuxHelperService.DETACHED_START, "slipway-helper",
                "/opt/slipway/bin/slipway-helper", "/etc/slipway/helper.properties", "/var/log/slipway/helper.log"), start);
        String note = plan.notes().get(0);
        assertTrue(note.contains("systemd is not PID 1") && note.contains("the unit slipway-helper.service is in place")
                && note.contains("but systemd is not running"), note);
        assertTrue(note.contains("start it by hand then: sudo setsid --fork /opt/slipway/bin/slipway-helper --helper.config "
                + "/etc/slipway/helper.properties"), note);
        assertTrue(file(plan, Path.of("/etc/systemd/system/slipway-helper.service")).contains("ExecStart=/opt/slipway/bin/slipway-helper"),
                "the unit is in place for a later boot with systemd");
        assertTrue(file(plan, Path.of("/etc/slipway/install-record.properties")).contains("created-group=false\nadded-members=\n"));
    }

    @Test
    void aPidFileOfSomeOtherProcessIsNotTakenForTheHelper(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("helper.pid"), ProcessHandle.current().pid() + "\n");
        LinuxHelperService noSystemd = new LinuxHelperService((c, t) -> new CommandRunner.Result(0, "", ""), () -> false,
                dir.resolve("helper.pid"));
        assertTrue(noSystemd.detachedHelperPid().isEmpty(), "this test's JVM is no helper launcher");
        assertTrue(noSystemd.uninstall(allUsers(Optional.empty())).steps().stream()
                .noneMatch(s -> s instanceof SystemPlan.RunCommand r && r.command().get(0).equals("kill")));
        dev.slipway.api.helper.HelperServiceStatus status = noSystemd.serviceStatus();
        assertTrue(!status.running() && status.describe().contains("systemd is not PID 1"), status.describe());
    }

    @Test
    void theUnitMayWriteEveryLocationTheHelperWritesAndNoMore() {
        String unit = LinuxHelperService.unit(allUsers(Optional.empty()));
        assertTrue(unit.contains("StateDirectory=slipway\n"), "the launcher's home /var/lib/slipway: " + unit);
        assertTrue(unit.contains("RuntimeDirectory=slipway\n") && unit.contains("LogsDirectory=slipway\n"), unit);
        assertTrue(unit.contains("ReadWritePaths=/etc -/usr/local/bin /run\n"), unit);
        InstallOptions moved = new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(), "slipway-users",
                InstallOptions.Engine.VM, false, Path.of("/opt/slipway"), List.of(),
                java.util.Map.of("hosts-file", "/srv/test/hosts", "bin-dir", "/srv/test/bin", "docker-sock", "/var/run/docker.sock",
                        "vm-dir", "/var/lib/slipway/vm", "audit-log", "/srv/log/audit.log"));
        String movedUnit = LinuxHelperService.unit(moved);
        assertTrue(movedUnit.contains("ReadWritePaths=/etc /srv/test /run /srv/log\n"), movedUnit);
    }

    @Test
    void theUnitPassesSystemdAnalyzeVerify(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/systemd-analyze")),
                "needs systemd-analyze (apt-get install -y systemd) to verify the unit");
        Path launcher = java.nio.file.Files.createDirectories(dir.resolve("opt/slipway/bin")).resolve("slipway-helper");
        java.nio.file.Files.writeString(launcher, "#!/bin/sh\nexit 0\n");
        launcher.toFile().setExecutable(true);
        InstallOptions options = new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(), "slipway-users",
                InstallOptions.Engine.VM, false, dir.resolve("opt/slipway"), List.of());
        Path unit = dir.resolve("slipway-helper.service");
        java.nio.file.Files.writeString(unit, LinuxHelperService.unit(options));
        Process verify = new ProcessBuilder("systemd-analyze", "verify", "--man=no", unit.toString()).redirectErrorStream(true).start();
        String out = new String(verify.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), out);
        assertTrue(out.lines().noneMatch(l -> l.contains("slipway-helper")), "no warning about the unit: " + out);
    }

    @Test
    void theDockerSockBootRuleNeverReplacesAnExistingFile() {
        SystemPlan plan = service.dockerSockBootLink(Path.of("/var/run/docker.sock"), Path.of("/home/alice/.slipway/run/docker.sock")).orElseThrow();
        String rule = file(plan, Path.of("/etc/tmpfiles.d/slipway-docker-sock.conf"));
        assertTrue(rule.endsWith("\nL /var/run/docker.sock - - - - /home/alice/.slipway/run/docker.sock\n"), rule);
        assertThrows(IllegalArgumentException.class,
                () -> service.dockerSockBootLink(Path.of("/var/run/docker.sock"), Path.of("/home/a b/x\nL /etc/shadow")));
    }

    @Test
    void invalidAccountNamesNeverReachAConfigurationOrACommand() {
        assertThrows(IllegalArgumentException.class, () -> new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.of("alice\nuser=root"),
                "slipway-users", InstallOptions.Engine.VM, false, Path.of("/opt/slipway"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(),
                "-rf", InstallOptions.Engine.VM, false, Path.of("/opt/slipway"), List.of()));
    }

    @Test
    void elevationIsUidZero() throws IOException {
        assertTrue(service.elevated());
        assertTrue(!new LinuxHelperService((c, t) -> new CommandRunner.Result(0, "1000\n", "")).elevated());
    }

    @Test
    void accountsComeFromGetent() throws IOException {
        CommandRunner getent = (command, timeout) -> switch (String.join(" ", command)) {
            case "getent group slipway-users" -> new CommandRunner.Result(0, "slipway-users:x:998:alice,bob\n", "");
            case "getent passwd alice" -> new CommandRunner.Result(0, "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n", "");
            default -> new CommandRunner.Result(2, "", "");
        };
        LinuxAccountDirectory accounts = new LinuxAccountDirectory(getent);
        assertEquals(Set.of("alice", "bob"), accounts.groupMembers("slipway-users"));
        assertEquals(Set.of(), accounts.groupMembers("nope"));
        assertTrue(accounts.groupExists("slipway-users"));
        assertEquals(Optional.of(Path.of("/home/alice")), accounts.homeDirectory("alice"));
        assertEquals(Optional.empty(), accounts.homeDirectory("mallory"));
        assertEquals(Set.of(), accounts.groupMembers("--help"));
    }
}
