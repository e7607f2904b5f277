package dev.slipway.helperclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.CommandRunner;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HelperClientIntegrationTest {

    @TempDir
    Path root;
    InJvmHelper helper;
    SocketHelperClient client;
    Path home;

    @BeforeEach
    void start() throws IOException {
        home = root.resolve("home/user");
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        Files.createDirectories(root);
        String group = Files.readAttributes(root, PosixFileAttributes.class).group().getName();
        helper = new InJvmHelper(root, group, Optional.empty(), accounts, InJvmHelper.limits());
        client = helper.client();
    }

    @AfterEach
    void stop() throws IOException {
        helper.close();
    }

    private SettingsCommand settings() {
        return new SettingsCommand(client, new dev.slipway.links.user.UserLinks(home.resolve(".slipway/bin"), helper.install));
    }

    @Test
    void hostsEntriesAreTurnedOnAndOffThroughTheHelper() throws Exception {
        String before = Files.readString(helper.hosts);
        CommandResult on = settings().execute(List.of("set", "hosts.entries", "on"));
        assertEquals(0, on.exitCode(), on.err());
        assertTrue(on.out().contains("asking the privileged helper"), on.out());
        assertTrue(Files.readString(helper.hosts).contains("127.0.0.1 kubernetes.docker.internal"));
        assertEquals(0, settings().execute(List.of("set", "hosts.entries", "off")).exitCode());
        assertEquals(before, Files.readString(helper.hosts));
        String audit = Files.readString(helper.auditLog);
        assertTrue(audit.contains("\"op\":\"hosts.ensure\"") && audit.contains("\"op\":\"hosts.remove\""), audit);
    }

    @Test
    void systemCliLinksGoThroughTheHelperAndUserLinksDoNot() throws Exception {
        assertEquals(0, settings().execute(List.of("set", "cli.location", "system")).exitCode());
        assertEquals(helper.install.resolve("bin/docker"), Files.readSymbolicLink(helper.bin.resolve("docker")));
        CommandResult user = settings().execute(List.of("set", "cli.location", "user"));
        assertEquals(0, user.exitCode(), user.err());
        assertTrue(user.out().contains("add it to PATH"), user.out());
        assertFalse(Files.exists(helper.bin.resolve("docker"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(helper.install.resolve("bin/docker"), Files.readSymbolicLink(home.resolve(".slipway/bin/docker")));
    }

    @Test
    void dockerSocketLinkPointsAtTheCallersSlipwaySocketAndInstallsTheBootRule() throws Exception {
        CommandResult on = settings().execute(List.of("set", "docker.socket", "on"));
        assertEquals(0, on.exitCode(), on.err());
        assertEquals(home.resolve(".slipway/run/docker.sock"), Files.readSymbolicLink(helper.dockerSock));
        SystemPlan rule = helper.appliedPlans.get(0);
        assertTrue(((SystemPlan.WriteFile) rule.steps().get(0)).content().contains("L " + helper.dockerSock + " - - - - "
                + home.resolve(".slipway/run/docker.sock")));
        assertEquals(0, settings().execute(List.of("set", "docker.socket", "off")).exitCode());
        assertFalse(Files.exists(helper.dockerSock, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aForeignDockerSocketIsReportedAsAConflict() throws Exception {
        Files.writeString(helper.dockerSock, "not a link");
        CommandResult result = settings().execute(List.of("set", "docker.socket", "on"));
        assertEquals(1, result.exitCode());
        assertTrue(result.err().contains("[conflict]") && result.err().contains("left alone"), result.err());
        assertEquals("not a link", Files.readString(helper.dockerSock));
    }

    @Test
    void unknownSettingsAndValuesAreUsageErrorsThatListWhatNeedsTheHelper() throws Exception {
        CommandResult unknown = settings().execute(List.of("set", "kernel.panic", "1"));
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("[needs the helper]"), unknown.err());
        assertEquals(2, settings().execute(List.of("set", "hosts.entries", "/etc/passwd")).exitCode());
    }

    @Test
    void statusReportsTheServingHelperAndItsOperations() throws Exception {
        HelperCommand command = new HelperCommand(client, definitions(false), plan -> { }, helper.install, Duration.ofSeconds(1));
        CommandResult status = command.execute(List.of("status"));
        assertEquals(0, status.exitCode(), status.out());
        assertTrue(status.out().contains("helper: serving on " + helper.socket), status.out());
        assertTrue(status.out().contains("hosts.ensure"), status.out());
    }

    @Test
    void installWithoutElevationRefusesAndChangesNothing() throws Exception {
        List<SystemPlan> applied = new java.util.ArrayList<>();
        HelperCommand command = new HelperCommand(client, definitions(false), applied::add, helper.install, Duration.ofSeconds(1));
        CommandResult result = command.execute(List.of("install", "--user", "alice"));
        assertEquals(1, result.exitCode());
        assertTrue(result.err().contains("sudo"), result.err());
        assertTrue(applied.isEmpty());
    }

    @Test
    void userModeInstallAppliesThePrivilegedConfigurationAtInstallTime() throws Exception {
        List<SystemPlan> applied = new java.util.ArrayList<>();
        HelperCommand command = new HelperCommand(client, definitions(true), applied::add, helper.install, Duration.ofSeconds(5));
        CommandResult result = command.execute(List.of("install", "--user", "alice"));
        assertEquals(0, result.exitCode(), result.err());
        assertTrue(((SystemPlan.WriteFile) applied.get(0).steps().stream().filter(s -> s instanceof SystemPlan.WriteFile)
                .findFirst().orElseThrow()).content().contains("user=alice"));
        assertTrue(result.out().contains("hosts.ensure: done") && result.out().contains("symlinks.install: done"), result.out());
        assertTrue(Files.readString(helper.hosts).contains("kubernetes.docker.internal"));
    }

    @Test
    void perUserInstallNeedsNoElevationAndListsWhatIsUnavailable() throws Exception {
        HelperCommand command = new HelperCommand(client, definitions(false), plan -> { throw new AssertionError("no plan"); },
                helper.install, Duration.ofSeconds(1));
        CommandResult result = command.execute(List.of("install", "--per-user"));
        assertEquals(0, result.exitCode(), result.err());
        assertTrue(result.out().contains("unavailable"), result.out());
    }

    @Test
    void aMissingHelperIsReportedWithTheInstallHint() {
        HelperException e = assertThrows(HelperException.class,
                () -> new SocketHelperClient(root.resolve("nope.sock"), Duration.ofSeconds(1)).call("version", Map.of()));
        assertEquals(HelperErrors.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("slipway helper install"), e.getMessage());
    }

    @Test
    void theClientRefusesUnknownOperationsAndParametersBeforeSending() {
        assertEquals(HelperErrors.UNKNOWN_OPERATION, assertThrows(HelperException.class, () -> client.call("exec", Map.of())).code());
        assertEquals(HelperErrors.UNKNOWN_FIELD,
                assertThrows(HelperException.class, () -> client.call("hosts.ensure", Map.of("file", "x"))).code());
    }

    /** Linux's definitions, except that the test's install dir (under /tmp, which anyone may write) counts as trusted. */
    private HelperServiceDefinitions definitions(boolean elevated) {
        dev.slipway.platform.linux.LinuxHelperService linux = new dev.slipway.platform.linux.LinuxHelperService(
                (c, t) -> new CommandRunner.Result(0, elevated ? "0\n" : "1000\n", ""));
        return new HelperServiceDefinitions() {
            @Override public Path configFile() { return linux.configFile(); }
            @Override public Path auditLog() { return linux.auditLog(); }
            @Override public SystemPlan install(dev.slipway.api.helper.InstallOptions options) { return linux.install(options); }
            @Override public SystemPlan reconfigure(dev.slipway.api.helper.InstallOptions options) { return linux.reconfigure(options); }
            @Override public SystemPlan uninstall(dev.slipway.api.helper.InstallOptions options) { return linux.uninstall(options); }
            @Override public List<String> statusCommand() { return linux.statusCommand(); }
            @Override public dev.slipway.api.helper.HelperServiceStatus serviceStatus() throws java.io.IOException { return linux.serviceStatus(); }
            @Override public void requireTrusted(Path path) { }
            @Override public void requireTrustedChain(Path directory) { }
            @Override public java.util.Optional<SystemPlan> dockerSockBootLink(Path link, Path target) { return linux.dockerSockBootLink(link, target); }
            @Override public SystemPlan removeDockerSockBootLink() { return linux.removeDockerSockBootLink(); }
            @Override public boolean elevated() throws java.io.IOException { return linux.elevated(); }
        };
    }
}
