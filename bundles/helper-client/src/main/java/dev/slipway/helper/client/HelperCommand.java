package dev.slipway.helper.client;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.Platform;

/**
 * {@code slipway helper install|uninstall|status}. Install and uninstall change the system and
 * need an elevated process; status works for everyone.
 */
@Component(property = {ControlCommand.NAME + "=helper",
        ControlCommand.SUMMARY + "=install, remove or check the privileged helper (install/uninstall need root)"})
public final class HelperCommand implements ControlCommand {

    static final String USAGE = "usage: slipway helper status\n"
            + "       slipway helper install [--per-user] [--user NAME] [--group NAME] [--add-user NAME]...\n"
            + "                              [--engine vm|wsl2|hyperv|windows-containers] [--host-gateway]\n"
            + "       slipway helper uninstall";

    private final HelperClient client;
    private final HelperServiceDefinitions definitions;
    private final SystemPlanRunner plans;
    private final CommandRunner commands;
    private final Path installDir;
    private final Duration startWait;

    @Activate
    public HelperCommand(BundleContext context, @Reference HelperClient client, @Reference HelperServiceDefinitions definitions,
            @Reference SystemPlanRunner plans, @Reference CommandRunner commands, @Reference Platform platform) {
        this(client, definitions, plans, commands, Optional.ofNullable(context.getProperty("slipway.install.dir"))
                .map(Path::of).orElse(platform.systemInstallDir()), Duration.ofSeconds(15));
    }

    HelperCommand(HelperClient client, HelperServiceDefinitions definitions, SystemPlanRunner plans, CommandRunner commands,
            Path installDir, Duration startWait) {
        this.client = client;
        this.definitions = definitions;
        this.plans = plans;
        this.commands = commands;
        this.installDir = installDir;
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
        boolean serviceRunning;
        try {
            serviceRunning = commands.run(definitions.statusCommand(), Duration.ofSeconds(10)).succeeded();
        } catch (IOException e) {
            serviceRunning = false;
        }
        out.append("service: ").append(serviceRunning ? "running" : "not running").append('\n');
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
        plans.apply(plan);
        StringBuilder out = new StringBuilder("helper installed\n");
        plan.notes().forEach(n -> out.append(n).append('\n'));
        if (options.user().isPresent()) {
            // --user mode: the privileged configuration is applied now, so the user never needs a password.
            out.append(applyForUser());
        }
        return CommandResult.ok(out.toString());
    }

    private String applyForUser() {
        StringBuilder out = new StringBuilder();
        long deadline = System.nanoTime() + startWait.toNanos();
        while (true) {
            try {
                client.call(HelperSchema.HEALTH, Map.of());
                break;
            } catch (HelperException e) {
                if (System.nanoTime() > deadline) {
                    return "the helper did not come up within " + startWait.toSeconds() + " s: " + e.getMessage() + "\n";
                }
                sleep();
            }
        }
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
        if (!args.isEmpty()) {
            return CommandResult.usage(USAGE);
        }
        if (!definitions.elevated()) {
            return CommandResult.failure("slipway helper uninstall changes the system and needs an administrator: "
                    + "run it again with sudo (Windows: from an elevated prompt)");
        }
        StringBuilder out = new StringBuilder();
        for (String op : List.of(HelperSchema.HOSTS_REMOVE, HelperSchema.SYMLINKS_REMOVE, HelperSchema.DOCKERSOCK_UNLINK)) {
            Map<String, String> params = op.equals(HelperSchema.SYMLINKS_REMOVE)
                    ? Map.of(HelperSchema.PARAM_LOCATION, HelperSchema.LOCATION_SYSTEM) : Map.of();
            try {
                client.call(op, params);
                out.append(op).append(": done\n");
            } catch (HelperException e) {
                out.append(op).append(": ").append(e.getMessage()).append('\n');
            }
        }
        SystemPlan plan = definitions.uninstall(new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(),
                InstallOptions.DEFAULT_GROUP, InstallOptions.Engine.VM, false, installDir, List.of()));
        plans.apply(plan);
        out.append("helper removed\n");
        plan.notes().forEach(n -> out.append(n).append('\n'));
        return CommandResult.ok(out.toString());
    }

    InstallOptions parse(List<String> args) {
        InstallOptions.Mode mode = InstallOptions.Mode.ALL_USERS;
        Optional<String> user = Optional.empty();
        String group = InstallOptions.DEFAULT_GROUP;
        InstallOptions.Engine engine = InstallOptions.Engine.VM;
        boolean hostGateway = false;
        List<String> members = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--per-user" -> mode = InstallOptions.Mode.PER_USER;
                case "--host-gateway" -> hostGateway = true;
                case "--user" -> user = Optional.of(value(args, ++i, arg));
                case "--group" -> group = value(args, ++i, arg);
                case "--add-user" -> members.add(value(args, ++i, arg));
                case "--engine" -> engine = engine(value(args, ++i, arg));
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (mode == InstallOptions.Mode.PER_USER && user.isPresent()) {
            throw new IllegalArgumentException("--user applies to an all-users install");
        }
        user.filter(u -> !members.contains(u)).ifPresent(members::add);
        return new InstallOptions(mode, user, group, engine, hostGateway, installDir, members);
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
