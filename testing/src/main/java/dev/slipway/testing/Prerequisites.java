package dev.slipway.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs of the machine, checked as JUnit assumptions: a test that cannot run here is
 * skipped with a message saying what is missing and how to get it, never failed.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Whether {@code tool} is an executable on the PATH, or in /usr/sbin or /sbin. */
    public static boolean onPath(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** The Debian package that brings {@code tool}. */
    public static String packageOf(String tool) {
        return switch (tool) {
            case "ip", "ss" -> "iproute2";
            case "busybox" -> "busybox-static";
            case "nft" -> "nftables";
            case "useradd", "groupadd", "userdel", "groupdel", "usermod" -> "passwd";
            case "setpriv" -> "util-linux";
            case "dig", "host" -> "dnsutils";
            case "dnsmasq" -> "dnsmasq-base";
            case "plistutil" -> "libplist-utils";
            default -> tool;
        };
    }

    /** Skips unless the tests run as root; {@code why} says what needs it. */
    public static void assumeRoot(String why) {
        Assumptions.assumeTrue(isRoot(), () -> "needs root (CI runs as root): " + why);
    }

    /** Skips unless each of {@code tools} is on the PATH: "needs curl: apt-get install -y curl". */
    public static void assumeCommands(String... tools) {
        for (String t : tools) {
            Assumptions.assumeTrue(onPath(t), () -> "needs " + t + ": apt-get install -y " + packageOf(t));
        }
    }

    /** Skips unless the tun device is there (tap devices for the guest side of the stack). */
    public static void assumeTun() {
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "needs /dev/net/tun (the tun module)");
    }

    /** Root, /dev/net/tun and {@code tools}: what tests with network namespaces and tap devices need. */
    public static void assumeNamespaces(String... tools) {
        Assumptions.assumeTrue(isRoot(), "needs root for network namespaces and tap devices: run the tests as root (CI does)");
        assumeTun();
        assumeCommands(tools);
    }
}
