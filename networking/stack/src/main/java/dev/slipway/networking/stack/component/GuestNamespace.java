package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.transport.TapTransport;

/**
 * A Linux network namespace standing in for the VM: created, wired to the stack through a tap
 * device, configured by its own DHCP client (busybox udhcpc) and removed again. Every OS command
 * goes through {@link CommandRunner}.
 */
public final class GuestNamespace implements AutoCloseable {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final String OWNER_FILE = "slipway.owner";
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
    private boolean leftoverRemoved;

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
        reclaimLeftover();
        run("ip", "netns", "add", name);
        created = true;
        writeResolvConf();
        writeOwner();
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

    /**
     * A namespace of this name left by a runtime that was killed (its owner file names a process
     * that is gone) is removed; any other namespace of this name is not Slipway's to touch.
     */
    private void reclaimLeftover() throws IOException {
        if (!Files.exists(Path.of("/run/netns", name))) {
            return;
        }
        Path owner = ownerFile();
        String recorded;
        try {
            recorded = Files.readString(owner, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IOException("a network namespace '" + name + "' exists and was not made by Slipway (no " + owner
                    + "); remove it (ip netns del " + name + ") or choose another name with --netns NAME");
        }
        if (ownerAlive(recorded)) {
            throw new IOException("the network namespace '" + name + "' belongs to a running Slipway (" + recorded
                    + "); stop it first or choose another name with --netns NAME");
        }
        run("ip", "netns", "del", name);
        leftoverRemoved = true;
    }

    /** Whether the namespace was a killed runtime's leftover that this start removed. */
    public boolean leftoverRemoved() {
        return leftoverRemoved;
    }

    private Path ownerFile() {
        return Path.of("/etc/netns", name, OWNER_FILE);
    }

    private void writeOwner() throws IOException {
        Path owner = ownerFile();
        Files.writeString(owner, ownerStamp(ProcessHandle.current()) + "\n", StandardCharsets.US_ASCII);
        files.add(0, owner);
    }

    /** "pid start-instant": a pid alone could have been reused by an unrelated process since. */
    static String ownerStamp(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().map(Object::toString).orElse("?");
    }

    static boolean ownerAlive(String recorded) {
        String[] parts = recorded.split(" ");
        long pid;
        try {
            pid = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            return false;
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(GuestNamespace::ownerStamp)
                .map(recorded::equals).orElse(false);
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

    /** The files written for the namespace, for the next version of the stack to remove when it ends. */
    public List<String> files() {
        return files.stream().map(Path::toString).toList();
    }

    /** Goes on with a namespace a previous version of the stack made (its tap already attached to the stack). */
    public void adopt(String address, List<String> writtenFiles) {
        this.address = address;
        this.created = true;
        writtenFiles.forEach(f -> files.add(Path.of(f)));
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
