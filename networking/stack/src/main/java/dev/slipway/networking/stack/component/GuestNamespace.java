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
 * device, configured by its own DHCP client (busybox udhcpc) and removed again. The client keeps
 * running, in the background, and renews the lease before it ends; the address it sets lives as
 * long as the lease. Every OS command goes through {@link CommandRunner}.
 */
public final class GuestNamespace implements AutoCloseable {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** How long the DHCP client may take for the first lease (it sends up to five discovers a second apart, then retries). */
    private static final long LEASE_WAIT_MILLIS = 15_000;
    private static final String OWNER_FILE = "slipway.owner";
    private static final String DHCP_SCRIPT = """
            #!/bin/sh
            # udhcpc calls this with the lease in its environment, at the first lease and at each renewal
            case "$1" in
              deconfig)
                ip addr flush dev "$interface"
                ip link set "$interface" up
                ;;
              bound|renew)
                # a renewal of the same address only extends its lifetime: connections using it carry on
                ip -4 -o addr show dev "$interface" | grep -q " $ip/" || ip addr flush dev "$interface"
                # busybox's client takes a lease under 30 s for 30 s (and renews after half of that)
                life=forever
                [ -n "$lease" ] && life=$(( lease < 30 ? 30 : lease ))
                ip addr replace "$ip/${mask:-$subnet}" dev "$interface" valid_lft "$life" preferred_lft "$life"
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
    private Path dhcpPidFile;
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
        startDhcpClient();
        address = awaitAddress();
    }

    /**
     * Starts udhcpc in the namespace, in the background (start-stop-daemon detaches it, its output to
     * /dev/null, and records its pid for {@link #close()}): it stays to renew the lease.
     */
    private void startDhcpClient() throws IOException {
        Path dir = Files.createTempDirectory("slipway-dhcp-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path script = dir.resolve("udhcpc.sh");
        Files.writeString(script, DHCP_SCRIPT, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        dhcpPidFile = dir.resolve("udhcpc.pid");
        files.add(0, dhcpPidFile);
        files.add(1, script);
        files.add(2, dir);
        run("ip", "netns", "exec", name, "busybox", "start-stop-daemon", "-S", "-b", "-m", "-p", dhcpPidFile.toString(),
                "-x", busybox(), "--", "udhcpc", "-f", "-i", device, "-t", "5", "-T", "1", "-A", "5", "-s", script.toString());
    }

    /** The address the DHCP client configured, once it has. */
    private String awaitAddress() throws IOException {
        long deadline = System.nanoTime() + LEASE_WAIT_MILLIS * 1_000_000L;
        while (true) {
            String out = run("ip", "-n", name, "-4", "-o", "addr", "show", "dev", device).stdout();
            int at = out.indexOf("inet ");
            if (at >= 0) {
                return out.substring(at + 5).split("[/ ]")[0];
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the namespace's DHCP client configured no address on " + device + " within "
                        + LEASE_WAIT_MILLIS / 1000 + " s");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the namespace's DHCP lease", e);
            }
        }
    }

    /** busybox's path: start-stop-daemon runs, and later matches, the client by it. */
    private String busybox() throws IOException {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "busybox");
            if (Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath().toString();
            }
        }
        throw new IOException("busybox is not on the PATH (apt-get install -y busybox-static)");
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

    /** Stops the DHCP client, removes the namespace (which destroys the tap device in it) and the files written for it. */
    @Override
    public void close() {
        if (dhcpPidFile != null && Files.exists(dhcpPidFile)) {
            try {
                commands.run(List.of("busybox", "start-stop-daemon", "-K", "-q", "-o", "-p", dhcpPidFile.toString()), COMMAND_TIMEOUT);
            } catch (IOException e) {
                // the client may have ended already; the namespace goes either way
            }
        }
        dhcpPidFile = null;
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
