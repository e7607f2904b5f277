package dev.slipway.platform.macos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.CommandRunner;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MacOsHelperServiceTest {

    @TempDir
    Path dir;

    private final MacOsHelperService service = new MacOsHelperService((c, t) -> new CommandRunner.Result(0, "0\n", ""));

    private static InstallOptions options() {
        return new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(), "slipway-users", InstallOptions.Engine.VM,
                false, Path.of("/Applications/Slipway.app"), List.of("alice"));
    }

    private static List<List<String>> commands(SystemPlan plan) {
        return plan.steps().stream().filter(s -> s instanceof SystemPlan.RunCommand)
                .map(s -> ((SystemPlan.RunCommand) s).command()).toList();
    }

    /** Round-trips the plist through Debian's plistutil (libplist): XML -> binary -> XML. */
    private String validated(String plist) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/plistutil")), "needs plistutil: apt-get install -y libplist-utils");
        Path xml = dir.resolve("in.plist");
        Path bin = dir.resolve("out.bplist");
        Path back = dir.resolve("back.plist");
        Files.writeString(xml, plist);
        run("plistutil", "-i", xml.toString(), "-o", bin.toString(), "-f", "bin");
        assertTrue(Files.readString(bin, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("bplist00"));
        run("plistutil", "-i", bin.toString(), "-o", back.toString(), "-f", "xml");
        return Files.readString(back);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    @Test
    void theHelperPlistIsValidAndRunsTheCopiedHelperAsRoot() throws Exception {
        String xml = validated(MacOsHelperService.helperPlist());
        assertTrue(xml.contains("<string>dev.slipway.helper.server</string>"), xml);
        assertTrue(xml.contains("<string>/Library/PrivilegedHelperTools/dev.slipway.helper.server</string>"));
        assertTrue(xml.contains("<key>KeepAlive</key>"));
    }

    @Test
    void theDockerSockStartupTaskIsValidAndNeverForcesTheLink() throws Exception {
        String xml = validated(MacOsHelperService.dockerSockPlist(Path.of("/var/run/docker.sock"),
                Path.of("/Users/alice & bob/.slipway/run/docker.sock")));
        assertTrue(xml.contains("<string>/bin/ln</string>"));
        assertTrue(xml.contains("<string>-s</string>"));
        assertTrue(!xml.contains("<string>-f</string>") && !xml.contains("-sf"));
        assertTrue(xml.contains("<string>/Users/alice &amp; bob/.slipway/run/docker.sock</string>"), xml);
        assertTrue(xml.contains("<key>LaunchOnlyOnce</key>"));
    }

    @Test
    void installCopiesTheHelperIntoPrivilegedHelperToolsAndLoadsThePlist() {
        SystemPlan plan = service.install(options());
        assertEquals(List.of(
                List.of("dseditgroup", "-o", "create", "-r", "Slipway users", "slipway-users"),
                List.of("dseditgroup", "-o", "edit", "-a", "alice", "-t", "user", "slipway-users"),
                List.of("/usr/bin/install", "-o", "root", "-g", "wheel", "-m", "0755",
                        "/Applications/Slipway.app/Contents/MacOS/slipway-helper", "/Library/PrivilegedHelperTools/dev.slipway.helper.server"),
                List.of("/bin/launchctl", "load", "-w", "/Library/LaunchDaemons/dev.slipway.helper.server.plist")), commands(plan));
    }

    @Test
    void uninstallUnloadsAndRemovesPlistAndBinary() {
        SystemPlan plan = service.uninstall(options());
        assertTrue(commands(plan).contains(List.of("/bin/launchctl", "unload", "-w", "/Library/LaunchDaemons/dev.slipway.docker-sock.plist")));
        assertTrue(plan.steps().contains(new SystemPlan.RemoveFile(Path.of("/Library/LaunchDaemons/dev.slipway.helper.server.plist"))));
        assertTrue(plan.steps().contains(new SystemPlan.RemoveFile(Path.of("/Library/PrivilegedHelperTools/dev.slipway.helper.server"))));
        assertEquals(List.of("/bin/launchctl", "bootout", "system/dev.slipway.helper.server"),
                commands(plan).get(commands(plan).size() - 1));
    }

    @Test
    void accountsComeFromDirectoryServices() throws IOException {
        CommandRunner dscl = (command, timeout) -> switch (String.join(" ", command)) {
            case "dscl . -read /Groups/slipway-users GroupMembership" -> new CommandRunner.Result(0, "GroupMembership: alice bob\n", "");
            case "dscl . -read /Users/alice NFSHomeDirectory" -> new CommandRunner.Result(0, "NFSHomeDirectory: /Users/alice\n", "");
            default -> new CommandRunner.Result(56, "", "eDSRecordNotFound");
        };
        MacOsAccountDirectory accounts = new MacOsAccountDirectory(dscl);
        assertEquals(Set.of("alice", "bob"), accounts.groupMembers("slipway-users"));
        assertEquals(Optional.of(Path.of("/Users/alice")), accounts.homeDirectory("alice"));
        assertEquals(Optional.empty(), accounts.homeDirectory("../etc"));
    }

    @Test
    void plistTextIsEscaped() {
        assertEquals("a &lt;b&gt; &amp; c", Plist.escape("a <b> & c"));
        assertTrue(Duration.ofSeconds(1).toMillis() > 0);
    }
}
