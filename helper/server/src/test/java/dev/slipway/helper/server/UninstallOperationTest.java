package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.Platform;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class UninstallOperationTest {

    @Test
    void uninstallUndoesEveryChangeThenRemovesTheServiceAfterReplying() throws Exception {
        List<String> undone = new ArrayList<>();
        CountDownLatch removed = new CountDownLatch(1);
        SystemPlan servicePlan = SystemPlan.of(List.of(new SystemPlan.RunCommand(List.of("systemctl", "stop", "x"), true)));
        List<SystemPlan> applied = new ArrayList<>();
        InstallOptions[] seen = new InstallOptions[1];
        UninstallOperation uninstall = new UninstallOperation(key -> key.equals("user") ? Optional.of("alice") : Optional.empty(),
                platform(), definitions(servicePlan, seen), plan -> {
                    applied.add(plan);
                    removed.countDown();
                });
        uninstall.hosts = call -> {
            undone.add(call.operation());
            return Map.of("changed", true);
        };
        uninstall.links = call -> {
            undone.add(call.operation() + call.params());
            if (call.operation().equals("dockersock.unlink")) {
                throw new HelperException(HelperErrors.CONFLICT, "not Slipway's link; left alone");
            }
            return Map.of();
        };
        Map<String, Object> result = uninstall.handle(new HelperCall(1, "uninstall", Map.of(), new HelperCall.Caller("root", "root")));
        assertEquals(List.of("hosts.remove", "symlinks.remove{location=system}", "dockersock.unlink{}"), undone);
        assertEquals("removing", result.get("service"));
        assertEquals("not Slipway's link; left alone", ((Map<?, ?>) result.get("undone")).get("dockersock.unlink"));
        assertTrue(applied.isEmpty(), "the service is removed only after the reply");
        assertTrue(removed.await(5, TimeUnit.SECONDS));
        assertEquals(List.of(servicePlan), applied);
        assertEquals(Optional.of("alice"), seen[0].user());
    }

    @Test
    void aMemberIsRefusedAndNothingIsUndone() {
        List<String> undone = new ArrayList<>();
        List<SystemPlan> applied = new ArrayList<>();
        UninstallOperation uninstall = new UninstallOperation(key -> key.equals("user") ? Optional.of("alice") : Optional.empty(),
                platform(), definitions(SystemPlan.of(List.of()), new InstallOptions[1]), applied::add);
        uninstall.hosts = call -> {
            undone.add(call.operation());
            return Map.of();
        };
        uninstall.links = uninstall.hosts;
        for (String member : List.of("bob", "alice")) {
            HelperException e = assertThrows(HelperException.class, () -> uninstall.handle(new HelperCall(1, "uninstall",
                    Map.of(), new HelperCall.Caller(member, "slipway-users"))));
            assertEquals(HelperErrors.REFUSED, e.code());
            assertTrue(e.getMessage().contains("only root may uninstall"), e.getMessage());
        }
        assertEquals(List.of(), undone);
        assertEquals(List.of(), applied);
    }

    private static Platform platform() {
        return new Platform() {
            @Override public String osName() { return "linux"; }
            @Override public Path hostsFile() { return Path.of("/etc/hosts"); }
            @Override public Path helperSocket() { return Path.of("/run/slipway/helper.sock"); }
            @Override public Path userBinDir() { return Path.of("/home/u/.slipway/bin"); }
            @Override public Path systemBinDir() { return Path.of("/usr/local/bin"); }
            @Override public Path systemInstallDir() { return Path.of("/opt/slipway"); }
            @Override public Path userInstallDir() { return Path.of("/home/u/.local/share/slipway"); }
            @Override public Path runtimeDir() { return Path.of("/run/user/1000/slipway"); }
        };
    }

    private static HelperServiceDefinitions definitions(SystemPlan uninstallPlan, InstallOptions[] seen) {
        return new HelperServiceDefinitions() {
            @Override public Path configFile() { return Path.of("/etc/slipway/helper.properties"); }
            @Override public Path auditLog() { return Path.of("/var/log/slipway/helper-audit.log"); }
            @Override public SystemPlan install(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan reconfigure(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan uninstall(InstallOptions options) {
                seen[0] = options;
                return uninstallPlan;
            }
            @Override public List<String> statusCommand() { return List.of(); }
            @Override public dev.slipway.api.helper.HelperServiceStatus serviceStatus() { throw new AssertionError(); }
            @Override public void requireTrusted(Path path) { throw new AssertionError(); }
            @Override public void requireTrustedChain(Path directory) { }
            @Override public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) { return Optional.empty(); }
            @Override public SystemPlan removeDockerSockBootLink() { return SystemPlan.of(List.of()); }
            @Override public boolean elevated() throws IOException { return true; }
        };
    }
}
