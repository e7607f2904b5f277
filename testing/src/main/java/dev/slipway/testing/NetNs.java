package dev.slipway.testing;

import java.io.IOException;
import java.time.Duration;

/**
 * Network namespaces and veth pairs for tests, with names unique to this test run so that two runs
 * on one machine never share a namespace or a device. Needs root (see
 * {@link Prerequisites#assumeNamespaces}).
 */
public final class NetNs {
    /** A per-JVM number: the suffix of every name made here. */
    public static final int RUN = (int) (ProcessHandle.current().pid() % 10000);

    private NetNs() {
    }

    /** {@code base} made unique to this test run (network namespace names). */
    public static String unique(String base) {
        return base + "-" + RUN;
    }

    /** A device name unique to this test run: {@code prefix} plus at most four digits (15 characters at most). */
    public static String device(String prefix) {
        return prefix + RUN;
    }

    /** Adds the namespace {@code ns} (fails the test when it cannot). */
    public static void add(String ns) throws IOException, InterruptedException {
        Commands.check(Duration.ofSeconds(20), "ip", "netns", "add", ns);
    }

    /**
     * A veth pair from the host into {@code ns}: {@code hostDevice} on the host with {@code hostCidr},
     * {@code peerDevice} in the namespace with {@code peerCidr}, both up, and the namespace's loopback up.
     */
    public static void veth(String hostDevice, String hostCidr, String ns, String peerDevice, String peerCidr)
            throws IOException, InterruptedException {
        Duration t = Duration.ofSeconds(20);
        Commands.check(t, "ip", "link", "add", hostDevice, "type", "veth", "peer", "name", peerDevice, "netns", ns);
        Commands.check(t, "ip", "addr", "add", hostCidr, "dev", hostDevice);
        Commands.check(t, "ip", "link", "set", hostDevice, "up");
        Commands.check(t, "ip", "-n", ns, "addr", "add", peerCidr, "dev", peerDevice);
        Commands.check(t, "ip", "-n", ns, "link", "set", peerDevice, "up");
        Commands.check(t, "ip", "-n", ns, "link", "set", "lo", "up");
    }

    /** Kills what still runs in {@code ns} (children of {@code ip netns exec}); best effort. */
    public static void killAll(String ns) {
        try {
            Commands.Out pids = Commands.run(Duration.ofSeconds(5), "ip", "netns", "pids", ns);
            for (String pid : pids.stdout().split("\\s+")) {
                if (pid.matches("[0-9]+")) {
                    Commands.quietly("kill", "-9", pid);
                }
            }
        } catch (IOException e) {
            // cleanup continues
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes the namespace {@code ns} if it is there; best effort. */
    public static void delete(String ns) {
        Commands.quietly("ip", "netns", "del", ns);
    }

    /** Deletes the host side of a veth pair (which takes its peer with it) if it is there; best effort. */
    public static void deleteLink(String device) {
        Commands.quietly("ip", "link", "del", device);
    }
}
