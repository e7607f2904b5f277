package dev.slipway.platform.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.InstallOptions.Engine;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.CommandRunner;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class WindowsHelperServiceTest {

    private final WindowsHelperService service = new WindowsHelperService((c, t) -> new CommandRunner.Result(0, "", ""),
            Map.of("ProgramData", "D:\\ProgramData")::get);

    private static InstallOptions options(Engine engine, boolean hostGateway, Optional<String> user) {
        return new InstallOptions(InstallOptions.Mode.ALL_USERS, user, "slipway-users", engine, hostGateway,
                Path.of("C:\\Program Files\\Slipway"), List.of("alice"));
    }

    private static List<List<String>> commands(SystemPlan plan) {
        return plan.steps().stream().filter(s -> s instanceof SystemPlan.RunCommand)
                .map(s -> ((SystemPlan.RunCommand) s).command()).toList();
    }

    @Test
    void startModeRule() {
        assertEquals("auto", WindowsHelperService.startMode(options(Engine.HYPERV, false, Optional.empty())));
        assertEquals("auto", WindowsHelperService.startMode(options(Engine.WINDOWS_CONTAINERS, false, Optional.empty())));
        assertEquals("demand", WindowsHelperService.startMode(options(Engine.WSL2, false, Optional.empty())));
        assertEquals("auto", WindowsHelperService.startMode(options(Engine.WSL2, true, Optional.empty())));
    }

    @Test
    void allUsersInstallCreatesAProtectedDirectoryAndTheService() {
        List<List<String>> commands = commands(service.install(options(Engine.HYPERV, false, Optional.empty())));
        String config = "D:\\ProgramData\\Slipway\\helper.properties";
        assertEquals(List.of(
                List.of("net.exe", "localgroup", "slipway-users", "/add", "/comment:Users allowed to use the Slipway helper"),
                List.of("net.exe", "localgroup", "slipway-users", "alice", "/add"),
                List.of("icacls.exe", "D:\\ProgramData\\Slipway", "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F",
                        "*S-1-5-32-544:(OI)(CI)F", "slipway-users:(RX)", "slipway-users:(OI)(IO)(RD,WD,RA,REA,RC,S)")), commands.subList(0, 3));
        List<String> create = commands.get(3);
        assertEquals(List.of("sc.exe", "create", "SlipwayHelper", "binPath="), create.subList(0, 4));
        assertEquals("\"C:\\Program Files\\Slipway\\bin\\slipway-helper.exe\" --helper.config \"" + config + "\"", create.get(4));
        assertEquals(List.of("start=", "auto", "obj=", "LocalSystem", "DisplayName=", "Slipway privileged helper"), create.subList(5, 11));
        assertEquals(List.of("sc.exe", "start", "SlipwayHelper"), commands.get(commands.size() - 1));
    }

    @Test
    void wsl2WithoutHostsMaintenanceIsCreatedOnDemandAndNotStarted() {
        List<List<String>> commands = commands(service.install(options(Engine.WSL2, false, Optional.empty())));
        assertTrue(commands.get(3).containsAll(List.of("start=", "demand")));
        assertTrue(commands.stream().noneMatch(c -> c.equals(List.of("sc.exe", "start", "SlipwayHelper"))));
    }

    @Test
    void reconfiguringForHostsMaintenanceSwitchesToAutomaticAndStarts() {
        List<List<String>> commands = commands(service.reconfigure(options(Engine.WSL2, true, Optional.empty())));
        assertEquals(List.of(List.of("sc.exe", "config", "SlipwayHelper", "start=", "auto"),
                List.of("sc.exe", "start", "SlipwayHelper")), commands);
    }

    @Test
    void perUserInstallHasNoServiceAndReportsTheUnavailableFeatures() {
        SystemPlan plan = service.install(new InstallOptions(InstallOptions.Mode.PER_USER, Optional.empty(), "slipway-users",
                Engine.WSL2, false, Path.of("C:\\Users\\alice\\AppData\\Local\\Programs\\Slipway"), List.of()));
        assertTrue(plan.steps().isEmpty());
        assertTrue(plan.notes().get(0).contains("Hyper-V") && plan.notes().get(0).contains("HKCU"));
    }

    @Test
    void userModeConfiguresTheOneUser() {
        SystemPlan plan = service.install(options(Engine.WSL2, false, Optional.of("alice")));
        String config = plan.steps().stream().filter(s -> s instanceof SystemPlan.WriteFile).map(s -> ((SystemPlan.WriteFile) s).content())
                .findFirst().orElseThrow();
        assertTrue(config.contains("user=alice\r\n"), config);
        assertTrue(plan.notes().contains("the helper serves only user alice"));
    }

    @Test
    void uninstallDeletesTheServiceAndStopsItLast() {
        List<List<String>> commands = commands(service.uninstall(options(Engine.HYPERV, false, Optional.empty())));
        assertEquals(List.of(List.of("sc.exe", "delete", "SlipwayHelper"), List.of("sc.exe", "stop", "SlipwayHelper")), commands);
    }

    @Test
    void theHostsFileIsRewrittenInPlaceWithCrlf() {
        WindowsHostsConventions conventions = new WindowsHostsConventions();
        assertEquals("\r\n", conventions.lineSeparator());
        assertTrue(conventions.hostGatewayNamesByDefault());
        assertEquals(dev.slipway.api.helper.HostsConventions.WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP, conventions.writeStrategy());
    }
}
