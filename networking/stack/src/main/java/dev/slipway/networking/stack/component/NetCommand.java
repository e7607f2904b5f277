package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.networking.stack.NetStack;

/**
 * {@code slipway net status} and {@code slipway net capture FILE [--snaplen N] [--seconds S]}:
 * the stack's state, and the switch's frames written to a pcap file for S seconds (default 10).
 */
@Component(property = {ControlCommand.NAME + "=net",
        ControlCommand.SUMMARY + "=guest network: status, capture FILE [--snaplen N] [--seconds S]"})
public final class NetCommand implements ControlCommand {
    static final String USAGE = "usage: slipway net status | slipway net capture FILE [--snaplen N] [--seconds S]";
    private static final int MAX_SECONDS = 3600;
    private final StackHost host;
    private final Object captureLock = new Object();
    private PcapCapture active;

    @Activate
    public NetCommand(@Reference StackHost host) {
        this.host = host;
    }

    @Override
    public CommandResult execute(List<String> args) throws Exception {
        if (args.isEmpty()) {
            return CommandResult.usage(USAGE);
        }
        return switch (args.get(0)) {
            case "status" -> CommandResult.ok(render(host.stack().status(), 0));
            case "capture" -> capture(args.subList(1, args.size()));
            default -> CommandResult.usage(USAGE);
        };
    }

    private CommandResult capture(List<String> args) throws InterruptedException {
        String file = null;
        int snaplen = 65535;
        int seconds = 10;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            try {
                if (a.equals("--snaplen") && i + 1 < args.size()) {
                    snaplen = Integer.parseInt(args.get(++i));
                } else if (a.equals("--seconds") && i + 1 < args.size()) {
                    seconds = Integer.parseInt(args.get(++i));
                } else if (!a.startsWith("--") && file == null) {
                    file = a;
                } else {
                    return CommandResult.usage(USAGE);
                }
            } catch (NumberFormatException e) {
                return CommandResult.usage(a + " needs a number\n" + USAGE);
            }
        }
        if (file == null || snaplen < 64 || snaplen > 262144 || seconds < 1 || seconds > MAX_SECONDS) {
            return CommandResult.usage(USAGE + "\n(--snaplen 64..262144, --seconds 1.." + MAX_SECONDS + ")");
        }
        NetStack stack = host.stack();
        PcapCapture capture;
        synchronized (captureLock) {
            if (active != null) {
                return CommandResult.failure("a capture is already running");
            }
            try {
                capture = new PcapCapture(Path.of(file).toAbsolutePath(), snaplen);
            } catch (IOException e) {
                return CommandResult.failure(e.getMessage());
            }
            active = capture;
        }
        try {
            stack.capture(capture);
            Thread.sleep(seconds * 1000L);
        } finally {
            stack.capture(null);
            capture.close();
            synchronized (captureLock) {
                active = null;
            }
        }
        if (capture.failures() > 0) {
            return CommandResult.failure("writing " + Path.of(file).toAbsolutePath() + " failed: "
                    + (capture.firstFailure() == null ? "it could not be closed" : capture.firstFailure().getMessage()));
        }
        return CommandResult.ok("captured " + capture.frames() + " frames in " + seconds + " s to " + Path.of(file).toAbsolutePath() + "\n");
    }

    @Deactivate
    void deactivate() {
        synchronized (captureLock) {
            if (active != null) {
                host.stack().capture(null);
            }
        }
    }

    /** Plain text for humans: nested maps as indented "key: value" lines. */
    static String render(Object value, int indent) {
        StringBuilder s = new StringBuilder();
        render(s, value, indent);
        return s.toString();
    }

    private static void render(StringBuilder s, Object value, int indent) {
        String pad = "  ".repeat(indent);
        if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object v = e.getValue();
                if (v instanceof Map<?, ?> inner && !inner.isEmpty() || v instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Map) {
                    s.append(pad).append(e.getKey()).append(":\n");
                    render(s, v, indent + 1);
                } else {
                    s.append(pad).append(e.getKey()).append(": ").append(v instanceof Map<?, ?> ? "-" : v).append('\n');
                }
            }
        } else if (value instanceof List<?> list) {
            for (Object o : list) {
                s.append(pad).append("-\n");
                render(s, o, indent + 1);
            }
        } else {
            s.append(pad).append(value).append('\n');
        }
    }
}
