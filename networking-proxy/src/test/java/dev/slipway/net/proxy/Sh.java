package dev.slipway.net.proxy;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Commands on the host and in test namespaces, each bounded in time. */
public final class Sh {
    private Sh() {}

    public record Out(int exit, String stdout, String stderr) {
        public boolean ok() {
            return exit == 0;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n" + stdout + "\n" + stderr;
        }
    }

    static boolean has(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (new File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    public static void assumeRootWith(String... tools) {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces and tap devices");
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "needs /dev/net/tun (the tun module)");
        for (String t : tools) {
            String pkg = switch (t) {
                case "ip" -> "iproute2";
                case "busybox" -> "busybox-static";
                default -> t;
            };
            Assumptions.assumeTrue(has(t), "needs " + t + ": apt-get install -y " + pkg);
        }
    }

    public static Out run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
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
        return new Out(p.isAlive() ? -1 : p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Out run(String... command) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(30), command);
    }

    static Out inNs(String ns, Duration timeout, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(Arrays.asList(command));
        return run(timeout, c.toArray(String[]::new));
    }

    /** Starts a long-running process in {@code ns}, its output going to {@code log}. */
    static Process startInNs(String ns, File log, String... command) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(Arrays.asList(command));
        return new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(log).start();
    }

    static void quietly(String... command) {
        try {
            run(Duration.ofSeconds(10), command);
        } catch (IOException | InterruptedException e) {
            // best-effort cleanup
        }
    }

    private static void copy(InputStream in, java.io.OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            // the process ended
        }
    }
}
