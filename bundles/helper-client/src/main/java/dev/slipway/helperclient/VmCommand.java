package dev.slipway.helperclient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;

/**
 * {@code slipway vm start|stop|status|logs|create|destroy|move-disk DIR}: the one VM, run by the
 * privileged helper. The user never names the VM nor any of its files; only {@code move-disk}
 * takes a directory, which the helper checks. {@code slipway vm image} builds the engine guest as the
 * runtime's user (no helper involved), see {@link EngineImage}.
 */
@Component(property = {ControlCommand.NAME + "=vm",
        ControlCommand.SUMMARY + "=start, stop, inspect the VM (run by the privileged helper); logs shows its console"})
public final class VmCommand implements ControlCommand {

    static final String USAGE = """
            usage: slipway vm start            create the VM if needed and boot it
                   slipway vm stop
                   slipway vm status
                   slipway vm logs [LINES]     the VM's serial console (default the last 100 lines)
                   slipway vm create
                   slipway vm destroy          stop it and delete its disk
                   slipway vm move-disk DIR    move the stopped VM's disk into DIR (absolute, yours or root's, no links)
                   slipway vm image [--out DIR] [--kernel-version VERSION]
                                               build the engine guest from this machine's packages (cached)
            """;

    static final int MAX_LOG_BYTES = 1 << 20;

    private final HelperClient helper;
    private final EngineImage image;

    @Activate
    public VmCommand(BundleContext context, @Reference HelperClient helper) {
        this(helper, new EngineImage(Optional.ofNullable(context.getProperty("slipway.dist")).map(Path::of), Duration.ofMinutes(9)));
    }

    public VmCommand(HelperClient helper) {
        this(helper, new EngineImage(Optional.empty(), Duration.ofMinutes(9)));
    }

    VmCommand(HelperClient helper, EngineImage image) {
        this.helper = helper;
        this.image = image;
    }

    @Override
    public CommandResult execute(List<String> args) throws Exception {
        if (args.isEmpty()) {
            return CommandResult.usage(USAGE);
        }
        String verb = args.get(0);
        if (verb.equals("image")) {
            return image.run(args.subList(1, args.size()));
        }
        try {
            return switch (verb) {
                case "start" -> args.size() == 1 ? start() : CommandResult.usage(USAGE);
                case "stop" -> args.size() == 1 ? show(call(HelperSchema.VM_STOP, Map.of())) : CommandResult.usage(USAGE);
                case "status" -> args.size() == 1 ? show(call(HelperSchema.VM_STATUS, Map.of())) : CommandResult.usage(USAGE);
                case "create" -> args.size() == 1 ? show(call(HelperSchema.VM_CREATE, Map.of())) : CommandResult.usage(USAGE);
                case "destroy" -> args.size() == 1 ? show(call(HelperSchema.VM_DESTROY, Map.of())) : CommandResult.usage(USAGE);
                case "move-disk" -> args.size() == 2
                        ? show(call(HelperSchema.VM_MOVE_DISK, Map.of(HelperSchema.PARAM_DESTINATION, args.get(1))))
                        : CommandResult.usage(USAGE);
                case "logs" -> logs(args);
                default -> CommandResult.usage("unknown vm command " + verb + "\n" + USAGE);
            };
        } catch (HelperException e) {
            String hint = e.code().equals(HelperErrors.UNAVAILABLE) && verb.equals("start")
                    ? "\nthe VM's network card is attached by Slipway's network component, which serves network.sock beside"
                            + " its VM socket: run Slipway with --vm-socket ~/.slipway/run/vm.sock"
                    : "";
            return CommandResult.failure("vm " + verb + " failed [" + e.code() + "]: " + e.getMessage() + hint + "\n");
        }
    }

    private CommandResult start() throws HelperException {
        Map<String, Object> created = call(HelperSchema.VM_CREATE, Map.of());
        Map<String, Object> started = call(HelperSchema.VM_START, Map.of());
        String prefix = Boolean.TRUE.equals(created.get("created")) ? "created " + created.get("disk") + "\n" : "";
        return CommandResult.ok(prefix + format(started));
    }

    private CommandResult logs(List<String> args) throws HelperException, IOException {
        int lines = 100;
        if (args.size() == 2) {
            try {
                lines = Integer.parseInt(args.get(1));
            } catch (NumberFormatException e) {
                return CommandResult.usage("LINES is a number\n" + USAGE);
            }
            if (lines <= 0) {
                return CommandResult.usage("LINES is a positive number\n" + USAGE);
            }
        } else if (args.size() > 2) {
            return CommandResult.usage(USAGE);
        }
        Object log = call(HelperSchema.VM_STATUS, Map.of()).get("consoleLog");
        if (!(log instanceof String path)) {
            return CommandResult.failure("the helper did not say where the console log is\n");
        }
        try {
            return CommandResult.ok(tail(Path.of(path), lines));
        } catch (NoSuchFileException e) {
            return CommandResult.ok("");
        } catch (java.nio.file.AccessDeniedException e) {
            return CommandResult.failure("cannot read " + path + ": only root and members of the helper's group may\n");
        }
    }

    /** The last {@code lines} lines of at most the last MiB of {@code file}. */
    static String tail(Path file, int lines) throws IOException {
        try (SeekableByteChannel c = Files.newByteChannel(file)) {
            long size = c.size();
            int n = (int) Math.min(size, MAX_LOG_BYTES);
            c.position(size - n);
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining() && c.read(b) > 0) {
                // bounded by the buffer
            }
            b.flip();
            List<String> all = StandardCharsets.UTF_8.decode(b).toString().lines().toList();
            List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
            return last.isEmpty() ? "" : String.join("\n", last) + "\n";
        }
    }

    private Map<String, Object> call(String operation, Map<String, String> params) throws HelperException {
        Map<String, String> all = new java.util.LinkedHashMap<>(params);
        all.put(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME);
        return helper.call(operation, all);
    }

    private static CommandResult show(Map<String, Object> result) {
        return CommandResult.ok(format(result));
    }

    static String format(Map<String, Object> result) {
        StringBuilder out = new StringBuilder();
        result.forEach((k, v) -> {
            if (k.equals("acceleratorReason")) {
                return;
            }
            if (k.equals("accelerator") && result.get("acceleratorReason") instanceof String why && !why.isEmpty()) {
                // e.g. "tcg (kvm probe failed: exit 134: failed to set MSR 0x10a)"
                v = v + " (" + why + ")";
            }
            out.append(String.format("%-14s %s%n", k + ":", v instanceof Double d && d == Math.rint(d)
                    ? Long.toString(d.longValue()) : v));
        });
        return out.toString();
    }
}
