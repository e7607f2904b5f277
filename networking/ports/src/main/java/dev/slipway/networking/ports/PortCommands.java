package dev.slipway.networking.ports;

import java.util.ArrayList;
import java.util.List;

import dev.slipway.api.control.CommandResult;

/**
 * {@code slipway expose|unexpose|ports}: the command-line face of {@link PortForwarder}.
 * {@code expose [--all-addresses] tcp|udp [HOSTIP:]HOSTPORT GUESTIP:GUESTPORT} (host IP 127.0.0.1
 * when left out), {@code expose unix PATH GUESTIP:GUESTPORT}.
 */
final class PortCommands {
    static final String EXPOSE_USAGE = "usage: slipway expose [--all-addresses] tcp|udp [HOSTIP:]HOSTPORT GUESTIP:GUESTPORT\n"
            + "       slipway expose unix SOCKETPATH GUESTIP:GUESTPORT\n";
    static final String UNEXPOSE_USAGE = "usage: slipway unexpose tcp|udp [HOSTIP:]HOSTPORT | unexpose unix SOCKETPATH\n";

    private PortCommands() {
    }

    static CommandResult expose(PortForwarder forwarder, List<String> args) {
        List<String> words = new ArrayList<>(args);
        boolean all = words.remove("--all-addresses");
        if (words.size() != 3) {
            return CommandResult.usage(EXPOSE_USAGE);
        }
        String protocol = words.get(0);
        String local = hostSide(protocol, words.get(1));
        String remote = PublishedPort.UNIX.equals(protocol) ? "tcp://" + words.get(2) : words.get(2);
        try {
            forwarder.expose(new PublishedPort(protocol, local, remote), all);
        } catch (Exception e) {
            return CommandResult.failure("slipway expose: " + e.getMessage() + "\n");
        }
        return CommandResult.ok("published " + protocol + " " + local + " -> " + words.get(2) + "\n");
    }

    static CommandResult unexpose(PortForwarder forwarder, List<String> args) {
        if (args.size() != 2) {
            return CommandResult.usage(UNEXPOSE_USAGE);
        }
        String local = hostSide(args.get(0), args.get(1));
        try {
            forwarder.unexpose(args.get(0), local);
        } catch (IllegalStateException e) {
            return CommandResult.failure("slipway unexpose: nothing is published on " + args.get(0) + " " + local + "\n");
        } catch (Exception e) {
            return CommandResult.failure("slipway unexpose: " + e.getMessage() + "\n");
        }
        return CommandResult.ok("unpublished " + args.get(0) + " " + local + "\n");
    }

    static CommandResult list(PortForwarder forwarder) {
        StringBuilder s = new StringBuilder(String.format("%-6s %-28s %s%n", "PROTO", "HOST", "GUEST"));
        for (PublishedPort p : forwarder.list()) {
            s.append(String.format("%-6s %-28s %s%n", p.protocol(), p.local(), p.shownRemote()));
        }
        List<String> conflicts = forwarder.conflicts();
        if (!conflicts.isEmpty()) {
            s.append("NOT PUBLISHED (the containers run without them)\n");
            conflicts.forEach(c -> s.append("  ").append(c).append('\n'));
        }
        return CommandResult.ok(s.toString());
    }

    /** {@code 8080} means {@code 127.0.0.1:8080}: publishing beyond loopback is spelled out. */
    private static String hostSide(String protocol, String word) {
        if (!PublishedPort.UNIX.equals(protocol) && word.matches("\\d+")) {
            return "127.0.0.1:" + word;
        }
        return word;
    }
}
