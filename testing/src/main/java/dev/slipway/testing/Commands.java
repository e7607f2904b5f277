package dev.slipway.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Commands on the host and in network namespaces, each bounded in time: the output of each stream
 * is read on its own thread so that a chatty command never blocks, and a command still running at
 * its deadline is killed and answers exit -1.
 */
public final class Commands {
    /** How long {@link #run(String...)} lets a command run. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private Commands() {
    }

    /** A finished command: its exit value (-1 when it was killed at its deadline) and what it wrote. */
    public record Out(int exit, String stdout, String stderr) {
        public boolean ok() {
            return exit == 0;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n" + stdout + "\n" + stderr;
        }
    }

    public static Out run(String... command) throws IOException, InterruptedException {
        return run(DEFAULT_TIMEOUT, command);
    }

    public static Out run(Duration timeout, String... command) throws IOException, InterruptedException {
        return run(timeout, new ProcessBuilder(command));
    }

    /** Runs {@code builder} (its own directory and environment) with nothing on its input. */
    public static Out run(Duration timeout, ProcessBuilder builder) throws IOException, InterruptedException {
        Process p = builder.start();
        p.getOutputStream().close();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Thread a = new Thread(() -> copy(p.getInputStream(), out));
        Thread b = new Thread(() -> copy(p.getErrorStream(), err));
        a.start();
        b.start();
        boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        a.join(2000);
        b.join(2000);
        int exit = finished ? p.exitValue() : -1;
        return new Out(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs {@code command} and fails the test, with the command and its output, unless it exits 0. */
    public static Out check(String... command) throws IOException, InterruptedException {
        return check(DEFAULT_TIMEOUT, command);
    }

    public static Out check(Duration timeout, String... command) throws IOException, InterruptedException {
        Out out = run(timeout, command);
        assertTrue(out.ok(), () -> String.join(" ", command) + ": " + out);
        return out;
    }

    /** Runs {@code command}, ignoring how it ends: for cleanup of what may not be there. */
    public static void quietly(String... command) {
        try {
            run(Duration.ofSeconds(10), command);
        } catch (IOException e) {
            // best-effort cleanup
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code command} inside the network namespace {@code ns} ({@code ip netns exec}). */
    public static Out inNs(String ns, Duration timeout, String... command) throws IOException, InterruptedException {
        return run(timeout, inNs(ns, command).toArray(String[]::new));
    }

    /** Starts a long-running {@code command} in {@code ns}, its output discarded. */
    public static Process startInNs(String ns, String... command) throws IOException {
        return new ProcessBuilder(inNs(ns, command)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Starts a long-running {@code command} in {@code ns}, its output going to {@code log}. */
    public static Process startInNs(String ns, File log, String... command) throws IOException {
        return new ProcessBuilder(inNs(ns, command)).redirectErrorStream(true).redirectOutput(log).start();
    }

    /** The command line that runs {@code command} in {@code ns}. */
    public static List<String> inNs(String ns, String... command) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(Arrays.asList(command));
        return c;
    }

    /** Ends {@code p} (null is nothing), forcibly when it has not ended five seconds later. */
    public static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void copy(InputStream in, OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            // the process ended
        }
    }
}
