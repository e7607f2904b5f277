package dev.slipway.net.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Test helpers for commands on the host and in test namespaces. */
final class Host {
    private Host() {}

    record Out(int exit, String stdout, String stderr) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** A per-JVM suffix, so that two test runs on one machine never share a namespace or device. */
    static final int RUN = (int) (ProcessHandle.current().pid() % 10000);

    /** {@code base} made unique to this test run (network namespace names). */
    static String unique(String base) {
        return base + "-" + RUN;
    }

    /** A device name unique to this test run: {@code prefix} plus at most four digits (15 characters at most). */
    static String device(String prefix) {
        return prefix + RUN;
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean has(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (new java.io.File(dir, tool).canExecute()) {
                return true;
            }
        }
        return new java.io.File("/usr/sbin/" + tool).canExecute() || new java.io.File("/sbin/" + tool).canExecute();
    }

    static void assumeRootWith(String... tools) {
        Assumptions.assumeTrue(isRoot(), "needs root for network namespaces and tap devices: run the tests as root (CI does)");
        Assumptions.assumeTrue(new java.io.File("/dev/net/tun").exists(), "needs /dev/net/tun (the tun module)");
        for (String t : tools) {
            Assumptions.assumeTrue(has(t), "needs " + t + ": apt-get install -y " + packageOf(t));
        }
    }

    static String packageOf(String tool) {
        return switch (tool) {
            case "ip" -> "iproute2";
            case "busybox" -> "busybox-static";
            case "nft" -> "nftables";
            case "iperf3" -> "iperf3";
            case "tshark" -> "tshark";
            case "curl" -> "curl";
            default -> tool;
        };
    }

    static Out run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        p.getOutputStream().close();
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        Thread a = new Thread(() -> copy(p.getInputStream(), out));
        Thread b = new Thread(() -> copy(p.getErrorStream(), err));
        a.start();
        b.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        a.join(2000);
        b.join(2000);
        int exit = p.isAlive() ? -1 : p.exitValue();
        return new Out(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Out run(String... command) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(60), command);
    }

    static Out inNs(String ns, Duration timeout, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(Arrays.asList(command));
        return run(timeout, c.toArray(String[]::new));
    }

    private static void copy(java.io.InputStream in, java.io.OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            // the process ended
        }
    }

    static void delNs(String name) {
        try {
            run(Duration.ofSeconds(10), "ip", "netns", "del", name);
        } catch (IOException | InterruptedException e) {
            // best effort cleanup
        }
    }
}
