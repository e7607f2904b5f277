package dev.slipway.platform.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperServiceStatus;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.PosixTrustedLocation;
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
 *
 * <p>Where systemd is not PID 1 (containers, WSL without systemd) there is no service manager to
 * hand the helper to: install starts it itself, detached, with its pid in the launcher's pid file
 * and its output in {@link #DETACHED_LOG}; uninstall stops it by that pid. It does not come back
 * after a reboot, and install says so.
 *
 * <p>Install writes down what it changed in the account database ({@link #INSTALL_RECORD}), so
 * uninstall takes away exactly that: the group if install created it, the memberships it added.
 */
@Component(service = HelperServiceDefinitions.class)
public final class LinuxHelperService implements HelperServiceDefinitions {

    static final String UNIT = "slipway-helper.service";
    static final Path UNIT_FILE = Path.of("/etc/systemd/system/" + UNIT);
    static final Path TMPFILES_RULE = Path.of("/etc/tmpfiles.d/slipway-helper.conf");
    static final Path DOCKER_SOCK_RULE = Path.of("/etc/tmpfiles.d/slipway-docker-sock.conf");
    static final Path CONFIG_DIR = Path.of("/etc/slipway");
    static final Path CONFIG = CONFIG_DIR.resolve("helper.properties");
    static final Path INSTALL_RECORD = CONFIG_DIR.resolve("install-record.properties");
    static final Path LOG_DIR = Path.of("/var/log/slipway");
    static final Path AUDIT_LOG = LOG_DIR.resolve("helper-audit.log");
    static final Path DETACHED_LOG = LOG_DIR.resolve("helper.log");
    /** The helper launcher's runtime dir and home (bin/slipway-helper's defaults; the unit's RuntimeDirectory and StateDirectory). */
    static final Path RUN_DIR = Path.of("/run/slipway");
    static final Path STATE_DIR = Path.of("/var/lib/slipway");
    static final Path PID_FILE = RUN_DIR.resolve("helper.pid");
    static final Duration STOP_WAIT = Duration.ofSeconds(30);

    static final String RECORD_CREATED_GROUP = "created-group";
    static final String RECORD_ADDED_MEMBERS = "added-members";

    private final CommandRunner commands;
    private final BooleanSupplier systemdIsPid1;
    private final Path pidFile;
    private final PosixTrustedLocation trusted = new PosixTrustedLocation(System.getProperty("user.name"), Set.of());

    @Activate
    public LinuxHelperService(@Reference CommandRunner commands) {
        this(commands, LinuxHelperService::systemdRuns, PID_FILE);
    }

    /**
     * sd_booted(3): systemd is the init system when this directory exists; and PID 1 is systemd
     * itself, since a container's image or a copied /run can hold the directory with no systemd
     * running (where every systemctl call fails with "System has not been booted with systemd").
     */
    static boolean systemdRuns() {
        if (!Files.isDirectory(Path.of("/run/systemd/system"))) {
            return false;
        }
        try {
            return Files.readString(Path.of("/proc/1/comm")).strip().equals("systemd");
        } catch (IOException e) {
            return true; // /proc/1 hidden (hidepid): sd_booted's answer stands
        }
    }

    LinuxHelperService(CommandRunner commands, BooleanSupplier systemdIsPid1, Path pidFile) {
        this.commands = commands;
        this.systemdIsPid1 = systemdIsPid1;
        this.pidFile = pidFile;
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
        List<String> notes = new ArrayList<>();
        Set<String> existingMembers = groupMembers(options.group());
        boolean createsGroup = existingMembers == null;
        List<String> added = new ArrayList<>();
        if (createsGroup) {
            steps.add(new RunCommand(List.of("groupadd", "--system", options.group()), false));
        }
        for (String member : options.members()) {
            if (createsGroup || !existingMembers.contains(member)) {
                steps.add(new RunCommand(List.of("usermod", "--append", "--groups", options.group(), member), false));
                added.add(member);
            }
        }
        steps.add(new WriteFile(CONFIG, options.configuration(), "0644"));
        steps.add(new WriteFile(INSTALL_RECORD, record(options.group(), createsGroup, added, existingRecord()), "0644"));
        // a helper this install started earlier without systemd is replaced, not left running beside the new one
        steps.addAll(stopDetached());
        if (systemdIsPid1.getAsBoolean()) {
            steps.add(new WriteFile(TMPFILES_RULE, "# Slipway helper: root-owned directory for its socket\n"
                    + "d " + RUN_DIR + " 0755 root root -\n", "0644"));
            steps.add(new WriteFile(UNIT_FILE, unit(options), "0644"));
            steps.add(new RunCommand(List.of("systemd-tmpfiles", "--create", TMPFILES_RULE.toString()), false));
            steps.add(new RunCommand(List.of("systemctl", "daemon-reload"), false));
            steps.add(new RunCommand(List.of("systemctl", "enable", "--now", UNIT), false));
            steps.add(new RunCommand(List.of("systemctl", "try-restart", UNIT), false)); // a reinstall runs the new configuration
            notes.add("the helper runs as systemd unit " + UNIT);
        } else {
            // in place for a machine that boots with systemd later (WSL with systemd turned on)
            steps.add(new WriteFile(UNIT_FILE, unit(options), "0644"));
            steps.add(startDetached(options));
            Path launcher = options.installDir().resolve("bin/slipway-helper");
            notes.add("systemd is not PID 1 here (a container or WSL?): the unit " + UNIT + " is in place (" + UNIT_FILE
                    + ") but systemd is not running, so the helper was started directly, detached, with its pid in "
                    + pidFile + " and its output in " + DETACHED_LOG + ". It does not start again after a reboot; "
                    + "start it by hand then: sudo setsid --fork " + launcher + " --helper.config " + CONFIG
                    + " >>" + DETACHED_LOG + " 2>&1 (or run slipway helper install again)");
        }
        if (options.user().isEmpty()) {
            notes.add("members of group " + options.group() + " may use the helper; add users with: usermod -aG "
                    + options.group() + " NAME (they must log in again)");
        } else {
            notes.add("the helper serves only user " + options.user().get());
        }
        return new SystemPlan(steps, notes);
    }

    /** {@code sh -c} only to redirect the detached helper's output; the paths arrive as arguments, never in the script. */
    static final String DETACHED_START = "mkdir -p \"$(dirname \"$3\")\" && exec \"$1\" --helper.config \"$2\" </dev/null >>\"$3\" 2>&1";

    private static RunCommand startDetached(InstallOptions options) {
        return new RunCommand(List.of("setsid", "--fork", "/bin/sh", "-c", DETACHED_START, "slipway-helper",
                options.installDir().resolve("bin/slipway-helper").toString(), CONFIG.toString(), DETACHED_LOG.toString()), false);
    }

    /** Stops a helper started without a service manager, and waits until it has gone (its socket with it). */
    private List<Step> stopDetached() {
        OptionalLong pid = detachedHelperPid();
        if (pid.isEmpty()) {
            return List.of();
        }
        String p = Long.toString(pid.getAsLong());
        return List.of(new RunCommand(List.of("kill", "-TERM", p), true),
                new RunCommand(List.of("timeout", Long.toString(STOP_WAIT.toSeconds()), "tail", "--pid=" + p, "-f", "/dev/null"), false));
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
                // /run/slipway: the socket, the launcher's lock and pid file; gone when the helper stops
                + "RuntimeDirectory=slipway\n"
                + "RuntimeDirectoryMode=0755\n"
                + "RuntimeDirectoryPreserve=no\n"
                // /var/lib/slipway: the launcher's home (framework cache, the run's bundle copies) and the VM's directory
                + "StateDirectory=slipway\n"
                + "StateDirectoryMode=0755\n"
                + "LogsDirectory=slipway\n"
                + "LogsDirectoryMode=0750\n"
                + "NoNewPrivileges=yes\n"
                + "PrivateTmp=yes\n"
                + "ProtectSystem=strict\n"
                + "ReadWritePaths=" + String.join(" ", writablePaths(options)) + "\n"
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

    /**
     * What the helper writes besides its own RuntimeDirectory, StateDirectory and LogsDirectory: the
     * hosts file's directory (replaced by rename, so the directory, not the file), /etc for its
     * configuration, policies and the docker.sock boot rule, the CLI links' bin dir, the docker.sock
     * link's directory, and any location the install moved elsewhere. A {@code -} prefix: a missing
     * directory is skipped instead of failing the start.
     */
    static List<String> writablePaths(InstallOptions options) {
        Set<String> paths = new LinkedHashSet<>();
        paths.add("/etc");
        paths.add(parent(options.setting(HelperSettings.HOSTS_FILE).orElse("/etc/hosts")));
        paths.add("-" + canonicalRun(options.setting(HelperSettings.BIN_DIR).orElse("/usr/local/bin")));
        paths.add(parent(options.setting(HelperSettings.DOCKER_SOCK).orElse("/run/docker.sock")));
        options.setting(HelperSettings.AUDIT_LOG).ifPresent(p -> paths.add(parent(p)));
        options.setting(HelperSettings.VM_DIR).ifPresent(p -> paths.add("-" + canonicalRun(p)));
        options.setting(HelperSettings.POLICY_DIR).ifPresent(p -> paths.add("-" + canonicalRun(p)));
        List<String> out = new ArrayList<>();
        for (String path : paths) {
            String bare = path.startsWith("-") ? path.substring(1) : path;
            boolean covered = paths.stream().map(q -> q.startsWith("-") ? q.substring(1) : q)
                    .anyMatch(q -> !q.equals(bare) && (bare + "/").startsWith(q + "/"));
            boolean ownDirectory = (bare + "/").startsWith(STATE_DIR + "/") || (bare + "/").startsWith(LOG_DIR + "/")
                    || (bare + "/").startsWith(RUN_DIR + "/");
            if (!covered && !ownDirectory) {
                out.add(path);
            }
        }
        return out;
    }

    private static String parent(String path) {
        Path parent = Path.of(path).getParent();
        return parent == null ? "/" : canonicalRun(parent.toString());
    }

    /** /var/run is a link to /run; systemd wants the real directory. */
    private static String canonicalRun(String path) {
        return path.equals("/var/run") || path.startsWith("/var/run/") ? path.substring("/var".length()) : path;
    }

    @Override
    public SystemPlan reconfigure(InstallOptions options) {
        return SystemPlan.of(List.of(new WriteFile(CONFIG, options.configuration(), "0644"),
                new RunCommand(List.of("systemctl", "try-restart", UNIT), false)));
    }

    @Override
    public SystemPlan uninstall(InstallOptions options) {
        List<Step> steps = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        boolean systemd = systemdIsPid1.getAsBoolean();
        if (systemd) {
            steps.add(new RunCommand(List.of("systemctl", "disable", UNIT), true));
        }
        steps.add(new RemoveFile(DOCKER_SOCK_RULE));
        steps.add(new RemoveFile(UNIT_FILE));
        steps.add(new RemoveFile(TMPFILES_RULE));
        steps.add(new RemoveFile(CONFIG));
        Properties record = existingRecord();
        steps.add(new RemoveFile(INSTALL_RECORD));
        String group = record.getProperty("group", options.group());
        for (String member : split(record.getProperty(RECORD_ADDED_MEMBERS, ""))) {
            steps.add(new RunCommand(List.of("gpasswd", "--delete", member, group), true));
        }
        if (Boolean.parseBoolean(record.getProperty(RECORD_CREATED_GROUP))) {
            steps.add(new RunCommand(List.of("groupdel", group), true));
        } else {
            notes.add("group " + group + " existed before the install and is kept");
        }
        steps.add(new RemoveFile(DETACHED_LOG));
        // The service is stopped last: when the helper runs this plan itself, stopping ends it.
        if (systemd) {
            steps.add(new RunCommand(List.of("systemctl", "daemon-reload"), true));
            steps.add(new RunCommand(List.of("systemctl", "stop", UNIT), true));
        }
        steps.addAll(stopDetached());
        // What the helper's own runs left: the launcher's lock, its pid file (a helper stopped by a signal exits
        // before the launcher removes it) and bundle cache; the VM's disk stays unless it was destroyed.
        steps.add(new RemoveFile(RUN_DIR.resolve("helper.lock")));
        steps.add(new RemoveFile(pidFile));
        steps.add(new RunCommand(List.of("rm", "-rf", "--one-file-system", STATE_DIR.resolve("cache").toString()), true));
        for (Path dir : List.of(RUN_DIR, STATE_DIR, CONFIG_DIR, LOG_DIR)) {
            steps.add(new RunCommand(List.of("rmdir", "--ignore-fail-on-non-empty", dir.toString()), true));
        }
        notes.add("the audit log " + AUDIT_LOG + " and the VM's directory under " + STATE_DIR + " are kept if they exist");
        return new SystemPlan(steps, notes);
    }

    @Override
    public List<String> statusCommand() {
        return List.of("systemctl", "is-active", "--quiet", UNIT);
    }

    @Override
    public HelperServiceStatus serviceStatus() throws IOException {
        OptionalLong detached = detachedHelperPid();
        if (detached.isPresent()) {
            return new HelperServiceStatus(true, detached, "started by slipway helper install without a service manager, "
                    + "output in " + DETACHED_LOG);
        }
        if (!systemdIsPid1.getAsBoolean()) {
            return new HelperServiceStatus(false, OptionalLong.empty(),
                    "systemd is not PID 1 here: slipway helper install starts the helper itself");
        }
        if (!Files.exists(UNIT_FILE)) {
            return new HelperServiceStatus(false, OptionalLong.empty(), "systemd unit " + UNIT + " is not installed");
        }
        boolean active = commands.run(statusCommand(), Duration.ofSeconds(10)).succeeded();
        OptionalLong pid = OptionalLong.empty();
        if (active) {
            CommandRunner.Result main = commands.run(List.of("systemctl", "show", "--property=MainPID", "--value", UNIT), Duration.ofSeconds(10));
            pid = parsePid(main.stdout());
        }
        return new HelperServiceStatus(active, pid, "systemd unit " + UNIT);
    }

    /**
     * The pid in the helper launcher's pid file, if that process is alive and is the helper's launcher
     * (a recycled pid of some other process is never signalled).
     */
    OptionalLong detachedHelperPid() {
        OptionalLong pid;
        try {
            pid = parsePid(Files.readString(pidFile, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        if (pid.isEmpty()) {
            return pid;
        }
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid.getAsLong()), "cmdline"));
            List<String> args = Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
            int name = args.indexOf("--name");
            boolean helper = args.contains("dev.slipway.launcher.Launcher") && name >= 0 && name + 1 < args.size()
                    && args.get(name + 1).equals("helper");
            return helper ? pid : OptionalLong.empty();
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    private static OptionalLong parsePid(String text) {
        try {
            long pid = Long.parseLong(text.strip());
            return pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The group's listed members, or {@code null} when there is no such group. */
    private Set<String> groupMembers(String group) {
        try {
            CommandRunner.Result result = commands.run(List.of("getent", "group", group), Duration.ofSeconds(10));
            if (!result.succeeded()) {
                return null;
            }
            String[] fields = result.stdout().strip().split(":", -1);
            return fields.length < 4 ? Set.of() : new LinkedHashSet<>(split(fields[3]));
        } catch (IOException e) {
            return null;
        }
    }

    /** An earlier install's record: a reinstall keeps what the first install created, so uninstall still removes it. */
    private static Properties existingRecord() {
        Properties record = new Properties();
        if (Files.isRegularFile(INSTALL_RECORD, LinkOption.NOFOLLOW_LINKS)) {
            try (InputStream in = Files.newInputStream(INSTALL_RECORD, LinkOption.NOFOLLOW_LINKS)) {
                record.load(in);
            } catch (IOException e) {
                // unreadable: this install's own record replaces it
            }
        }
        return record;
    }

    static String record(String group, boolean createdGroup, List<String> addedMembers, Properties earlier) {
        boolean sameGroup = group.equals(earlier.getProperty("group"));
        boolean created = createdGroup || (sameGroup && Boolean.parseBoolean(earlier.getProperty(RECORD_CREATED_GROUP)));
        Set<String> added = new LinkedHashSet<>(sameGroup ? split(earlier.getProperty(RECORD_ADDED_MEMBERS, "")) : List.of());
        added.addAll(addedMembers);
        return "# What slipway helper install changed, so that uninstall undoes exactly that\n"
                + "group=" + group + "\n"
                + RECORD_CREATED_GROUP + "=" + created + "\n"
                + RECORD_ADDED_MEMBERS + "=" + String.join(",", added) + "\n";
    }

    private static List<String> split(String list) {
        return Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    @Override
    public void requireTrusted(Path path) throws IOException {
        trusted.require(path);
    }

    @Override
    public void requireTrustedChain(Path directory) throws IOException {
        trusted.requireChainOf(directory);
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
