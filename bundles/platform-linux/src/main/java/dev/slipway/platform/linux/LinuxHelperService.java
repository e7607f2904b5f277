package dev.slipway.platform.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlan.RemoveFile;
import dev.slipway.api.helper.SystemPlan.RunCommand;
import dev.slipway.api.helper.SystemPlan.Step;
import dev.slipway.api.helper.SystemPlan.WriteFile;
import dev.slipway.api.platform.CommandRunner;

/**
 * The helper as a systemd service: a hardened unit running as root, the users' group, a
 * tmpfiles rule for its root-owned socket directory and, when docker.sock is linked, a tmpfiles
 * rule that re-creates the link at boot ({@code L}: never replaces what is already there).
 */
@Component(service = HelperServiceDefinitions.class)
public final class LinuxHelperService implements HelperServiceDefinitions {

    static final String UNIT = "slipway-helper.service";
    static final Path UNIT_FILE = Path.of("/etc/systemd/system/" + UNIT);
    static final Path TMPFILES_RULE = Path.of("/etc/tmpfiles.d/slipway-helper.conf");
    static final Path DOCKER_SOCK_RULE = Path.of("/etc/tmpfiles.d/slipway-docker-sock.conf");
    static final Path CONFIG = Path.of("/etc/slipway/helper.properties");
    static final Path AUDIT_LOG = Path.of("/var/log/slipway/helper-audit.log");

    private final CommandRunner commands;

    @Activate
    public LinuxHelperService(@Reference CommandRunner commands) {
        this.commands = commands;
    }

    @Override public Path configFile() { return CONFIG; }
    @Override public Path auditLog() { return AUDIT_LOG; }

    @Override
    public SystemPlan install(InstallOptions options) {
        if (options.mode() == InstallOptions.Mode.PER_USER) {
            return new SystemPlan(List.of(), List.of("per-user install: no helper service; hosts entries, CLI links in "
                    + "/usr/local/bin, the /var/run/docker.sock link and privileged ports are unavailable"));
        }
        List<Step> steps = new ArrayList<>();
        steps.add(new RunCommand(List.of("groupadd", "--system", "--force", options.group()), false));
        for (String member : options.members()) {
            steps.add(new RunCommand(List.of("usermod", "--append", "--groups", options.group(), member), false));
        }
        steps.add(new WriteFile(CONFIG, options.configuration(), "0644"));
        steps.add(new WriteFile(TMPFILES_RULE, "# Slipway helper: root-owned directory for its socket\n"
                + "d /run/slipway 0755 root root -\n", "0644"));
        steps.add(new WriteFile(UNIT_FILE, unit(options), "0644"));
        steps.add(new RunCommand(List.of("systemd-tmpfiles", "--create", TMPFILES_RULE.toString()), false));
        steps.add(new RunCommand(List.of("systemctl", "daemon-reload"), false));
        steps.add(new RunCommand(List.of("systemctl", "enable", "--now", UNIT), false));
        List<String> notes = new ArrayList<>();
        if (options.user().isEmpty()) {
            notes.add("members of group " + options.group() + " may use the helper; add users with: usermod -aG "
                    + options.group() + " NAME (they must log in again)");
        } else {
            notes.add("the helper serves only user " + options.user().get());
        }
        return new SystemPlan(steps, notes);
    }

    static String unit(InstallOptions options) {
        Path launcher = options.installDir().resolve("bin/slipway-helper");
        return "[Unit]\n"
                + "Description=Slipway privileged helper\n"
                + "Documentation=https://slipway.dev\n"
                + "After=local-fs.target\n"
                + "\n"
                + "[Service]\n"
                + "Type=simple\n"
                + "ExecStart=" + launcher + " --helper.config " + CONFIG + "\n"
                + "Restart=on-failure\n"
                + "RestartSec=2\n"
                + "UMask=0022\n"
                + "RuntimeDirectory=slipway\n"
                + "RuntimeDirectoryMode=0755\n"
                + "RuntimeDirectoryPreserve=no\n"
                + "LogsDirectory=slipway\n"
                + "LogsDirectoryMode=0750\n"
                + "NoNewPrivileges=yes\n"
                + "PrivateTmp=yes\n"
                + "ProtectSystem=strict\n"
                + "ReadWritePaths=/etc /run /var/run /usr/local/bin /var/log/slipway\n"
                + "ProtectHome=read-only\n"
                + "ProtectKernelTunables=yes\n"
                + "ProtectKernelModules=yes\n"
                + "ProtectControlGroups=yes\n"
                + "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"
                + "RestrictSUIDSGID=yes\n"
                + "LockPersonality=yes\n"
                + "\n"
                + "[Install]\n"
                + "WantedBy=multi-user.target\n";
    }

    @Override
    public SystemPlan reconfigure(InstallOptions options) {
        return SystemPlan.of(List.of(new WriteFile(CONFIG, options.configuration(), "0644"),
                new RunCommand(List.of("systemctl", "try-restart", UNIT), false)));
    }

    @Override
    public SystemPlan uninstall(InstallOptions options) {
        // The service is stopped last: when the helper runs this plan itself, stopping ends it.
        return new SystemPlan(List.of(
                new RunCommand(List.of("systemctl", "disable", UNIT), true),
                new RemoveFile(DOCKER_SOCK_RULE),
                new RemoveFile(UNIT_FILE),
                new RemoveFile(TMPFILES_RULE),
                new RemoveFile(CONFIG),
                new RunCommand(List.of("systemctl", "daemon-reload"), true),
                new RunCommand(List.of("systemctl", "stop", UNIT), true)),
                List.of("group " + options.group() + " is kept; remove it with: groupdel " + options.group()));
    }

    @Override
    public List<String> statusCommand() {
        return List.of("systemctl", "is-active", "--quiet", UNIT);
    }

    @Override
    public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) {
        return Optional.of(SystemPlan.of(List.of(new WriteFile(DOCKER_SOCK_RULE,
                "# Slipway: re-create the docker.sock link at boot (never replaces an existing file)\n"
                        + "L " + tmpfilesPath(link) + " - - - - " + tmpfilesPath(target) + "\n", "0644"))));
    }

    /** tmpfiles.d separates fields by whitespace; paths with whitespace or specifiers are refused. */
    private static String tmpfilesPath(Path path) {
        String s = path.toString();
        if (!s.matches("/[A-Za-z0-9_./@+-]*")) {
            throw new IllegalArgumentException("cannot express " + s + " in a tmpfiles.d rule");
        }
        return s;
    }

    @Override
    public SystemPlan removeDockerSockBootLink() {
        return SystemPlan.of(List.of(new RemoveFile(DOCKER_SOCK_RULE)));
    }

    @Override
    public boolean elevated() throws IOException {
        CommandRunner.Result result = commands.run(List.of("id", "-u"), Duration.ofSeconds(5));
        return result.succeeded() && result.stdout().strip().equals("0");
    }
}
