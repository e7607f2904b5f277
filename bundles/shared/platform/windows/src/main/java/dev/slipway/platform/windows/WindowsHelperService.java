package dev.slipway.platform.windows;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.InstallOptions.Engine;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlan.RemoveFile;
import dev.slipway.api.helper.SystemPlan.RunCommand;
import dev.slipway.api.helper.SystemPlan.Step;
import dev.slipway.api.helper.SystemPlan.WriteFile;
import dev.slipway.api.platform.CommandRunner;

/**
 * The helper as a Windows service running as LocalSystem, created with {@code sc.exe}. Start mode:
 * automatic at boot for the Hyper-V and Windows-containers engines; on demand for WSL 2 unless the
 * host/gateway names must be kept in the hosts file, which needs the service running. Its socket
 * directory under ProgramData is limited to SYSTEM, Administrators and the users' group.
 * Per-user installs get no service.
 */
@Component(service = HelperServiceDefinitions.class)
public final class WindowsHelperService implements HelperServiceDefinitions {

    static final String SERVICE = "SlipwayHelper";

    private final CommandRunner commands;
    private final String programData;

    @Activate
    public WindowsHelperService(@Reference CommandRunner commands) {
        this(commands, System::getenv);
    }

    WindowsHelperService(CommandRunner commands, UnaryOperator<String> env) {
        this.commands = commands;
        String value = env.apply("ProgramData");
        this.programData = value == null || value.isBlank() ? "C:\\ProgramData" : value;
    }

    private String dataDir() {
        return programData + "\\Slipway";
    }

    @Override public Path configFile() { return Path.of(dataDir() + "\\helper.properties"); }
    @Override public Path auditLog() { return Path.of(dataDir() + "\\logs\\helper-audit.log"); }

    /** The start-mode rule. */
    static String startMode(InstallOptions options) {
        boolean atBoot = options.engine() == Engine.HYPERV || options.engine() == Engine.WINDOWS_CONTAINERS
                || options.maintainHostGatewayNames();
        return atBoot ? "auto" : "demand";
    }

    @Override
    public SystemPlan install(InstallOptions options) {
        if (options.mode() == InstallOptions.Mode.PER_USER) {
            return new SystemPlan(List.of(), List.of("per-user install (%LOCALAPPDATA%\\Programs\\Slipway, HKCU): no helper "
                    + "service; unavailable: hosts entries (host/gateway/kubernetes.docker.internal), the Hyper-V engine, "
                    + "Windows containers"));
        }
        String group = options.group();
        List<Step> steps = new ArrayList<>();
        steps.add(new RunCommand(List.of("net.exe", "localgroup", group, "/add",
                "/comment:Users allowed to use the Slipway helper"), true));
        for (String member : options.members()) {
            steps.add(new RunCommand(List.of("net.exe", "localgroup", group, member, "/add"), true));
        }
        steps.add(new WriteFile(configFile(), options.configuration().replace("\n", "\r\n"), "0644"));
        // SYSTEM and Administrators: full control; the group may list the directory and open (connect to)
        // the socket file inside it, but not create, rename or delete anything there.
        steps.add(new RunCommand(List.of("icacls.exe", dataDir(), "/inheritance:r",
                "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F",
                group + ":(RX)", group + ":(OI)(IO)(RD,WD,RA,REA,RC,S)"), false));
        String launcher = options.installDir() + "\\bin\\slipway-helper.exe";
        steps.add(new RunCommand(List.of("sc.exe", "create", SERVICE,
                "binPath=", "\"" + launcher + "\" --helper.config \"" + configFile() + "\"",
                "start=", startMode(options), "obj=", "LocalSystem", "DisplayName=", "Slipway privileged helper"), false));
        steps.add(new RunCommand(List.of("sc.exe", "description", SERVICE,
                "Performs Slipway's short list of privileged operations for members of " + group), false));
        steps.add(new RunCommand(List.of("sc.exe", "failure", SERVICE, "reset=", "86400", "actions=", "restart/5000/restart/5000//"), false));
        if (startMode(options).equals("auto")) {
            steps.add(new RunCommand(List.of("sc.exe", "start", SERVICE), false));
        }
        List<String> notes = new ArrayList<>();
        notes.add("service " + SERVICE + " starts " + (startMode(options).equals("auto") ? "at boot" : "on demand"));
        options.user().ifPresent(u -> notes.add("the helper serves only user " + u));
        return new SystemPlan(steps, notes);
    }

    @Override
    public SystemPlan reconfigure(InstallOptions options) {
        List<Step> steps = new ArrayList<>();
        steps.add(new WriteFile(configFile(), options.configuration().replace("\n", "\r\n"), "0644"));
        steps.add(new RunCommand(List.of("sc.exe", "config", SERVICE, "start=", startMode(options)), false));
        if (startMode(options).equals("auto")) {
            steps.add(new RunCommand(List.of("sc.exe", "start", SERVICE), true));
        }
        return SystemPlan.of(steps);
    }

    @Override
    public SystemPlan uninstall(InstallOptions options) {
        // delete marks the service for removal once it stops; stop comes last because it ends the
        // helper when the helper runs this plan itself.
        return new SystemPlan(List.of(
                new RemoveFile(configFile()),
                new RunCommand(List.of("sc.exe", "delete", SERVICE), true),
                new RunCommand(List.of("sc.exe", "stop", SERVICE), true)),
                List.of("group " + options.group() + " is kept; remove it with: net localgroup " + options.group() + " /delete"));
    }

    @Override
    public List<String> statusCommand() {
        return List.of("sc.exe", "query", SERVICE);
    }

    @Override
    public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) {
        return Optional.empty(); // Windows clients reach the engine through a named pipe, not docker.sock
    }

    @Override
    public SystemPlan removeDockerSockBootLink() {
        return SystemPlan.of(List.of());
    }

    @Override
    public dev.slipway.api.helper.HelperServiceStatus serviceStatus() throws IOException {
        CommandRunner.Result query = commands.run(statusCommand(), Duration.ofSeconds(10));
        boolean running = query.succeeded() && query.stdout().contains("RUNNING");
        return new dev.slipway.api.helper.HelperServiceStatus(running, java.util.OptionalLong.empty(), "Windows service " + SERVICE);
    }

    /** Principals that may write to the install dir: the administrators, the system and the installer service. */
    private static final java.util.Set<String> ADMINISTRATORS = java.util.Set.of("BUILTIN\\Administrators",
            "NT AUTHORITY\\SYSTEM", "NT SERVICE\\TrustedInstaller", "CREATOR OWNER");

    private static final java.util.Set<java.nio.file.attribute.AclEntryPermission> WRITES = java.util.EnumSet.of(
            java.nio.file.attribute.AclEntryPermission.WRITE_DATA, java.nio.file.attribute.AclEntryPermission.APPEND_DATA,
            java.nio.file.attribute.AclEntryPermission.DELETE_CHILD, java.nio.file.attribute.AclEntryPermission.DELETE,
            java.nio.file.attribute.AclEntryPermission.WRITE_ACL, java.nio.file.attribute.AclEntryPermission.WRITE_OWNER);

    /** Every directory from the drive root down to {@code path}, and everything below it: no write access for anyone but the administrators. */
    @Override
    public void requireTrusted(Path path) throws IOException {
        requireAdministratorsOnly(path, true);
    }

    @Override
    public void requireTrustedChain(Path directory) throws IOException {
        requireAdministratorsOnly(directory, false);
    }

    private static void requireAdministratorsOnly(Path path, boolean withContents) throws IOException {
        Path absolute = path.toAbsolutePath().normalize();
        java.util.List<Path> all = new ArrayList<>();
        for (Path p = absolute; p != null; p = p.getParent()) {
            all.add(p);
        }
        if (withContents && java.nio.file.Files.isDirectory(absolute)) {
            try (var below = java.nio.file.Files.walk(absolute)) {
                below.skip(1).forEach(all::add);
            }
        }
        for (Path p : all) {
            var view = java.nio.file.Files.getFileAttributeView(p, java.nio.file.attribute.AclFileAttributeView.class);
            if (view == null) {
                throw new IOException("cannot read the access list of " + p);
            }
            for (var entry : view.getAcl()) {
                String who = entry.principal().getName();
                if (entry.type() == java.nio.file.attribute.AclEntryType.ALLOW && !ADMINISTRATORS.contains(who)
                        && entry.permissions().stream().anyMatch(WRITES::contains)) {
                    throw new IOException(p + " is writable by " + who + "; Slipway's helper is installed and run only from "
                            + "locations that only administrators can change");
                }
            }
        }
    }

    @Override
    public boolean elevated() throws IOException {
        // "net session" succeeds only in an elevated administrator's process.
        return commands.run(List.of("net.exe", "session"), Duration.ofSeconds(10)).succeeded();
    }
}
