package dev.slipway.platform.macos;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.PosixTrustedLocation;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlan.RemoveFile;
import dev.slipway.api.helper.SystemPlan.RunCommand;
import dev.slipway.api.helper.SystemPlan.Step;
import dev.slipway.api.helper.SystemPlan.WriteFile;
import dev.slipway.api.platform.CommandRunner;

/**
 * The helper as a launchd daemon: its launcher copied (root:wheel, not writable by the user) to
 * /Library/PrivilegedHelperTools, its plist in /Library/LaunchDaemons; docker.sock re-created at
 * boot by a launchd startup task because /var/run is emptied at every boot.
 */
@Component(service = HelperServiceDefinitions.class)
public final class MacOsHelperService implements HelperServiceDefinitions {

    static final String LABEL = "dev.slipway.helper.server";
    static final String SOCK_LABEL = "dev.slipway.docker-sock";
    static final Path HELPER = Path.of("/Library/PrivilegedHelperTools/" + LABEL);
    static final Path PLIST = Path.of("/Library/LaunchDaemons/" + LABEL + ".plist");
    static final Path SOCK_PLIST = Path.of("/Library/LaunchDaemons/" + SOCK_LABEL + ".plist");
    static final Path CONFIG = Path.of("/Library/Application Support/Slipway/helper.properties");
    static final Path AUDIT_LOG = Path.of("/Library/Logs/Slipway/helper-audit.log");
    /** Their members are administrators already: /Applications is root:admin 0775. */
    static final Set<String> ADMINISTRATOR_GROUPS = Set.of("admin", "wheel");

    private final CommandRunner commands;

    @Activate
    public MacOsHelperService(@Reference CommandRunner commands) {
        this.commands = commands;
    }

    @Override public Path configFile() { return CONFIG; }
    @Override public Path auditLog() { return AUDIT_LOG; }

    @Override
    public SystemPlan install(InstallOptions options) {
        if (options.mode() == InstallOptions.Mode.PER_USER) {
            return new SystemPlan(List.of(), List.of("per-user install: no helper; CLI tools are linked in ~/.slipway/bin "
                    + "(add it to PATH), and /etc/hosts entries, the /var/run/docker.sock link and privileged ports are unavailable"));
        }
        List<Step> steps = new ArrayList<>();
        steps.add(new RunCommand(List.of("dseditgroup", "-o", "create", "-r", "Slipway users", options.group()), true));
        for (String member : options.members()) {
            steps.add(new RunCommand(List.of("dseditgroup", "-o", "edit", "-a", member, "-t", "user", options.group()), false));
        }
        steps.add(new WriteFile(CONFIG, options.configuration(), "0644"));
        steps.add(new RunCommand(List.of("/usr/bin/install", "-o", "root", "-g", "wheel", "-m", "0755",
                options.installDir().resolve("Contents/MacOS/slipway-helper").toString(), HELPER.toString()), false));
        steps.add(new WriteFile(PLIST, helperPlist(), "0644"));
        steps.add(new RunCommand(List.of("/bin/launchctl", "load", "-w", PLIST.toString()), false));
        return new SystemPlan(steps, List.of(options.user().map(u -> "the helper serves only user " + u)
                .orElse("members of group " + options.group() + " may use the helper")));
    }

    static String helperPlist() {
        Map<String, Object> plist = new LinkedHashMap<>();
        plist.put("Label", LABEL);
        plist.put("ProgramArguments", List.of(HELPER.toString(), "--helper.config", CONFIG.toString()));
        plist.put("RunAtLoad", true);
        plist.put("KeepAlive", true);
        plist.put("UserName", "root");
        plist.put("StandardErrorPath", "/Library/Logs/Slipway/helper.log");
        return Plist.of(plist);
    }

    static String dockerSockPlist(Path link, Path target) {
        Map<String, Object> plist = new LinkedHashMap<>();
        plist.put("Label", SOCK_LABEL);
        // No -f: a docker.sock that someone else created at boot is left alone.
        plist.put("ProgramArguments", List.of("/bin/ln", "-s", target.toString(), link.toString()));
        plist.put("RunAtLoad", true);
        plist.put("LaunchOnlyOnce", true);
        plist.put("UserName", "root");
        return Plist.of(plist);
    }

    @Override
    public SystemPlan reconfigure(InstallOptions options) {
        return SystemPlan.of(List.of(new WriteFile(CONFIG, options.configuration(), "0644"),
                new RunCommand(List.of("/bin/launchctl", "kickstart", "-k", "system/" + LABEL), false)));
    }

    @Override
    public SystemPlan uninstall(InstallOptions options) {
        // Files first, the helper's job last: when the helper runs this plan itself, stopping the
        // job ends it. bootout names the job by label, so it works once the plist is gone.
        return new SystemPlan(List.of(
                new RunCommand(List.of("/bin/launchctl", "unload", "-w", SOCK_PLIST.toString()), true),
                new RemoveFile(SOCK_PLIST),
                new RemoveFile(CONFIG),
                new RemoveFile(HELPER),
                new RemoveFile(PLIST),
                new RunCommand(List.of("/bin/launchctl", "bootout", "system/" + LABEL), true)),
                List.of("group " + options.group() + " is kept; remove it with: dseditgroup -o delete " + options.group()));
    }

    @Override
    public List<String> statusCommand() {
        return List.of("/bin/launchctl", "print", "system/" + LABEL);
    }

    @Override
    public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) {
        return Optional.of(SystemPlan.of(List.of(
                new WriteFile(SOCK_PLIST, dockerSockPlist(link, target), "0644"),
                new RunCommand(List.of("/bin/launchctl", "unload", SOCK_PLIST.toString()), true),
                new RunCommand(List.of("/bin/launchctl", "load", "-w", SOCK_PLIST.toString()), false))));
    }

    @Override
    public SystemPlan removeDockerSockBootLink() {
        return SystemPlan.of(List.of(
                new RunCommand(List.of("/bin/launchctl", "unload", "-w", SOCK_PLIST.toString()), true),
                new RemoveFile(SOCK_PLIST)));
    }

    @Override
    public dev.slipway.api.helper.HelperServiceStatus serviceStatus() throws IOException {
        boolean loaded = commands.run(statusCommand(), Duration.ofSeconds(10)).succeeded();
        return new dev.slipway.api.helper.HelperServiceStatus(loaded, java.util.OptionalLong.empty(), "launchd daemon " + LABEL);
    }

    @Override
    public void requireTrusted(Path path) throws IOException {
        new PosixTrustedLocation(System.getProperty("user.name"), ADMINISTRATOR_GROUPS).require(path);
    }

    @Override
    public void requireTrustedChain(Path directory) throws IOException {
        new PosixTrustedLocation(System.getProperty("user.name"), ADMINISTRATOR_GROUPS).requireChainOf(directory);
    }

    @Override
    public boolean elevated() throws IOException {
        CommandRunner.Result result = commands.run(List.of("id", "-u"), Duration.ofSeconds(5));
        return result.succeeded() && result.stdout().strip().equals("0");
    }
}
