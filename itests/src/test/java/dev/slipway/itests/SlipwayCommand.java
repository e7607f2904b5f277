package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** The source tree's {@code ./slipway} run as a user runs it, against one Slipway home (runtime dir {@code HOME/run}), output captured. */
final class SlipwayCommand {

    record Run(int exitCode, String out, String err) {}

    private final Path root = Path.of(System.getProperty("slipway.root", "..")).toAbsolutePath().normalize();
    private final Path home;

    SlipwayCommand(Path home) {
        this.home = home;
    }

    Path root() {
        return root;
    }

    Run run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(root.resolve("slipway").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        Map<String, String> env = builder.environment();
        env.put("SLIPWAY_HOME", home.toString());
        env.put("SLIPWAY_RUNTIME_DIR", home.resolve("run").toString());
        env.remove("XDG_RUNTIME_DIR");
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("slipway " + String.join(" ", args) + " did not finish\n" + log());
        }
        Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return run;
    }

    /** {@code slipway status --json}, which must succeed. */
    JsonObject status() throws Exception {
        Run run = run("status", "--json");
        assertEquals(0, run.exitCode(), run.err());
        return JsonParser.parseString(run.out()).getAsJsonObject();
    }

    /** The runtime's log so far, or "" when there is none. */
    String log() throws IOException {
        Path log = home.resolve("run/slipway.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }
}
