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

    private final LinuxHelperService service = new LinuxHelperService((c, t) -> new CommandRunner.Result(0, "0\n", ""));

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
                List.of("groupadd", "--system", "--force", "slipway-users"),
                List.of("usermod", "--append", "--groups", "slipway-users", "alice"),
                List.of("systemd-tmpfiles", "--create", "/etc/tmpfiles.d/slipway-helper.conf"),
                List.of("systemctl", "daemon-reload"),
                List.of("systemctl", "enable", "--now", "slipway-helper.service")), commands(plan));
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
    void uninstallStopsTheServiceLast() {
        List<SystemPlan.Step> steps = service.uninstall(allUsers(Optional.empty())).steps();
        assertEquals(new SystemPlan.RunCommand(List.of("systemctl", "stop", "slipway-helper.service"), true), steps.get(steps.size() - 1));
        assertTrue(steps.contains(new SystemPlan.RemoveFile(Path.of("/etc/systemd/system/slipway-helper.service"))));
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
