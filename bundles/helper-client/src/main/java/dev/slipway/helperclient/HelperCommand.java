package dev.slipway.helperclient;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.Platform;

/**
 * {@code slipway helper install|uninstall|status}. Install and uninstall change the system and
 * need an elevated process; status works for everyone. The CLI runs this command in a one-shot
 * framework of its own when no runtime answers ({@code cnf/install.bndrun}), so an administrator
 * installs with {@code sudo slipway helper install} and no runtime.
 *
 * <p>Install copies the distribution it runs from ({@code slipway.dist}) into the install dir
 * (default: the platform's system install dir), refuses an install dir that anyone but root could
 * change, and adds the installing user ({@code slipway.installing-user}, the CLI's {@code SUDO_USER})
 * to the group.
 */
@Component(property = {ControlCommand.NAME + "=helper",
        ControlCommand.SUMMARY + "=install, remove or check the privileged helper (install/uninstall need root)"})
public final class HelperCommand implements ControlCommand {

    static final String USAGE = "usage: slipway helper status\n"
            + "       slipway helper install [--per-user] [--user NAME] [--group NAME] [--add-user NAME]...\n"
            + "                              [--install-dir DIR] [--setting KEY=VALUE]...\n"
            + "                              [--engine vm|wsl2|hyperv|windows-containers] [--host-gateway]\n"
            + "       slipway helper uninstall [--remove-disk]";

    private final HelperClient client;
    private final HelperServiceDefinitions definitions;
    private final SystemPlanRunner plans;
    private final Path installDir;
    private final Optional<Path> dist;
    private final Optional<String> installingUser;
    private final Duration startWait;

    @Activate
    public HelperCommand(BundleContext context, @Reference HelperClient client, @Reference HelperServiceDefinitions definitions,
            @Reference SystemPlanRunner plans, @Reference Platform platform) {
        this(client, definitions, plans, Optional.ofNullable(context.getProperty("slipway.install.dir"))
                .map(Path::of).orElse(platform.systemInstallDir()), Optional.ofNullable(context.getProperty("slipway.dist")).map(Path::of),
                Optional.ofNullable(context.getProperty("slipway.installing-user")).filter(u -> !u.isBlank() && !u.equals("root")),
                Duration.ofSeconds(30));
    }

    HelperCommand(HelperClient client, HelperServiceDefinitions definitions, SystemPlanRunner plans,
            Path installDir, Duration startWait) {
        this(client, definitions, plans, installDir, Optional.empty(), Optional.empty(), startWait);
    }

    HelperCommand(HelperClient client, HelperServiceDefinitions definitions, SystemPlanRunner plans,
            Path installDir, Optional<Path> dist, Optional<String> installingUser, Duration startWait) {
        this.client = client;
        this.definitions = definitions;
        this.plans = plans;
        this.installDir = installDir;
        this.dist = dist;
        this.installingUser = installingUser;
        this.startWait = startWait;
    }

    @Override
    public CommandResult execute(List<String> args) throws Exception {
        if (args.isEmpty()) {
            return CommandResult.usage(USAGE);
        }
        return switch (args.get(0)) {
            case "status" -> status();
            case "install" -> install(args.subList(1, args.size()));
            case "uninstall" -> uninstall(args.subList(1, args.size()));
            default -> CommandResult.usage(USAGE);
        };
    }

    private CommandResult status() {
        StringBuilder out = new StringBuilder();
        try {
            out.append("service: ").append(definitions.serviceStatus().describe()).append('\n');
        } catch (IOException e) {
            out.append("service: unknown (").append(e.getMessage()).append(")\n");
        }
        try {
            Map<String, Object> version = client.call(HelperSchema.VERSION, Map.of());
            Map<String, Object> health = client.call(HelperSchema.HEALTH, Map.of());
            out.append("helper: ").append(health.get("status")).append(" on ").append(client.socket())
                    .append(" (protocol ").append(number(version.get("protocol"))).append(", version ").append(version.get("helper")).append(")\n");
            out.append("allowed: ").append(health.get("policy")).append('\n');
            out.append("operations: ").append(String.join(" ", strings(health.get("operations")))).append('\n');
            out.append("audit log: ").append(health.get("auditLog")).append('\n');
            return CommandResult.ok(out.toString());
        } catch (HelperException e) {
            out.append("helper: ").append(e.getMessage()).append('\n');
            return new CommandResult(out.toString(), "", 1);
        }
    }

    private CommandResult install(List<String> args) throws IOException {
        InstallOptions options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            return CommandResult.usage(e.getMessage() + "\n" + USAGE);
        }
        SystemPlan plan = definitions.install(options);
        if (options.mode() == InstallOptions.Mode.PER_USER) {
            return CommandResult.ok(String.join("\n", plan.notes()) + "\n");
        }
        if (!definitions.elevated()) {
            return CommandResult.failure("slipway helper install changes the system and needs an administrator: "
                    + "run it again with sudo (Windows: from an elevated prompt)");
        }
        StringBuilder out = new StringBuilder();
        try {
            Path target = options.installDir().toAbsolutePath().normalize();
            Path parent = target.getParent();
            if (parent != null && Files.isDirectory(parent)) {
                definitions.requireTrustedChain(parent); // before anything is written there
            }
            if (dist.isPresent()) {
                out.append(new DistributionCopy(target).installFrom(dist.get())).append('\n');
            }
            definitions.requireTrusted(target);
        } catch (IOException e) {
            return CommandResult.failure("slipway helper install: " + e.getMessage() + "; nothing was installed");
        }
        plans.apply(plan);
        out.append("helper installed from ").append(options.installDir()).append('\n');
        options.members().forEach(m -> out.append("user ").append(m).append(" is in group ").append(options.group())
                .append(" (effective at the user's next login, or with: sg ").append(options.group()).append(")\n"));
        plan.notes().forEach(n -> out.append(n).append('\n'));
        Optional<String> notAnswering = awaitHelper();
        if (notAnswering.isPresent()) {
            out.append(notAnswering.get()).append('\n');
            return new CommandResult(out.toString(), "", 1);
        }
        out.append("service: ").append(definitions.serviceStatus().describe()).append('\n');
        if (options.user().isPresent()) {
            // --user mode: the privileged configuration is applied now, so the user never needs a password.
            out.append(applyForUser());
        }
        return CommandResult.ok(out.toString());
    }

    /** Empty once the helper answers on its socket; else what went wrong. */
    private Optional<String> awaitHelper() {
        long deadline = System.nanoTime() + startWait.toNanos();
        while (true) {
            try {
                client.call(HelperSchema.HEALTH, Map.of());
                return Optional.empty();
            } catch (HelperException e) {
                if (System.nanoTime() > deadline) {
                    return Optional.of("the helper did not answer on " + client.socket() + " within " + startWait.toSeconds()
                            + " s: " + e.getMessage());
                }
                sleep();
            }
        }
    }

    private String applyForUser() {
        StringBuilder out = new StringBuilder();
        for (String op : List.of(HelperSchema.HOSTS_ENSURE, HelperSchema.SYMLINKS_INSTALL, HelperSchema.DOCKERSOCK_LINK)) {
            Map<String, String> params = op.equals(HelperSchema.SYMLINKS_INSTALL)
                    ? Map.of(HelperSchema.PARAM_LOCATION, HelperSchema.LOCATION_SYSTEM) : Map.of();
            try {
                client.call(op, params);
                out.append(op).append(": done\n");
            } catch (HelperException e) {
                out.append(op).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return out.toString();
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private CommandResult uninstall(List<String> args) throws IOException {
        boolean removeDisk = args.equals(List.of("--remove-disk"));
        if (!args.isEmpty() && !removeDisk) {
            return CommandResult.usage(USAGE);
        }
        if (!definitions.elevated()) {
            return CommandResult.failure("slipway helper uninstall changes the system and needs an administrator: "
                    + "run it again with sudo (Windows: from an elevated prompt)");
        }
        StringBuilder out = new StringBuilder();
        Map<String, String> vm = Map.of(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME);
        Map<String, Map<String, String>> undo = new LinkedHashMap<>();
        undo.put(removeDisk ? HelperSchema.VM_DESTROY : HelperSchema.VM_STOP, vm);
        undo.put(HelperSchema.HOSTS_REMOVE, Map.of());
        undo.put(HelperSchema.SYMLINKS_REMOVE, Map.of(HelperSchema.PARAM_LOCATION, HelperSchema.LOCATION_SYSTEM));
        undo.put(HelperSchema.DOCKERSOCK_UNLINK, Map.of());
        Optional<String> notAnswering = awaitHelperBriefly();
        if (notAnswering.isPresent()) {
            out.append("the helper does not answer (").append(notAnswering.get())
                    .append("): the VM, the hosts block and the links it made are left as they are\n");
        } else {
            undo.forEach((op, params) -> {
                try {
                    client.call(op, params);
                    out.append(op).append(": done\n");
                } catch (HelperException e) {
                    out.append(op).append(": ").append(e.getMessage()).append('\n');
                }
            });
        }
        Properties installed = installedConfiguration();
        Path installedDir = Optional.ofNullable(installed.getProperty(HelperSettings.INSTALL_DIR)).map(Path::of).orElse(installDir);
        SystemPlan plan = definitions.uninstall(new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(),
                installed.getProperty(HelperSettings.GROUP, InstallOptions.DEFAULT_GROUP), InstallOptions.Engine.VM, false,
                installedDir, List.of()));
        plans.apply(plan);
        out.append(new DistributionCopy(installedDir).remove()).append('\n');
        out.append("helper removed\n");
        if (!removeDisk) {
            out.append("the VM's disk, if there is one, is kept in ").append(installed.getProperty(HelperSettings.VM_DIR, "the helper's VM directory"))
                    .append(" (slipway helper uninstall --remove-disk removes it with the helper)\n");
        }
        plan.notes().forEach(n -> out.append(n).append('\n'));
        return CommandResult.ok(out.toString());
    }

    private Optional<String> awaitHelperBriefly() {
        try {
            client.call(HelperSchema.HEALTH, Map.of());
            return Optional.empty();
        } catch (HelperException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The running install's configuration file (root-owned; read here only for the group and the install dir). */
    private Properties installedConfiguration() {
        Properties properties = new Properties();
        Path file = definitions.configFile();
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                properties.load(in);
            } catch (IOException e) {
                // the defaults then
            }
        }
        return properties;
    }

    InstallOptions parse(List<String> args) {
        InstallOptions.Mode mode = InstallOptions.Mode.ALL_USERS;
        Optional<String> user = Optional.empty();
        String group = InstallOptions.DEFAULT_GROUP;
        InstallOptions.Engine engine = InstallOptions.Engine.VM;
        boolean hostGateway = false;
        List<String> members = new ArrayList<>();
        Path dir = installDir;
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--per-user" -> mode = InstallOptions.Mode.PER_USER;
                case "--host-gateway" -> hostGateway = true;
                case "--user" -> user = Optional.of(value(args, ++i, arg));
                case "--group" -> group = value(args, ++i, arg);
                case "--add-user" -> members.add(value(args, ++i, arg));
                case "--engine" -> engine = engine(value(args, ++i, arg));
                case "--install-dir" -> dir = absolute(value(args, ++i, arg));
                case "--setting" -> {
                    String setting = value(args, ++i, arg);
                    int eq = setting.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--setting needs KEY=VALUE, not " + setting);
                    }
                    settings.put(setting.substring(0, eq), setting.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (mode == InstallOptions.Mode.PER_USER && user.isPresent()) {
            throw new IllegalArgumentException("--user applies to an all-users install");
        }
        user.filter(u -> !members.contains(u)).ifPresent(members::add);
        installingUser.filter(u -> !members.contains(u)).ifPresent(members::add);
        return new InstallOptions(mode, user, group, engine, hostGateway, dir, members, settings);
    }

    private static Path absolute(String path) {
        Path p = Path.of(path);
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("--install-dir needs an absolute path, not " + path);
        }
        return p.normalize();
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    private static InstallOptions.Engine engine(String name) {
        try {
            return InstallOptions.Engine.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown engine " + name + " (vm, wsl2, hyperv, windows-containers)");
        }
    }

    private static String number(Object value) {
        return value instanceof Number n ? Long.toString(n.longValue()) : String.valueOf(value);
    }

    private static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            list.forEach(o -> out.add(String.valueOf(o)));
        }
        return out;
    }
}
