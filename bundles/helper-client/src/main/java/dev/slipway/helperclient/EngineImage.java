package dev.slipway.helperclient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.slipway.api.control.CommandResult;

/**
 * {@code slipway vm image}: builds the engine guest from this machine's packages, or reuses the cached
 * build whose inputs are unchanged, by running the distribution's {@value #SCRIPT} (the source tree's
 * {@code guest/build-engine-image.sh}) as the runtime's user, and says where the kernel and initramfs
 * are and how the helper is told about them.
 */
final class EngineImage {
    static final String SCRIPT = "lib/guest/build-engine-image.sh";
    static final String USAGE = """
            usage: slipway vm image [--out DIR] [--kernel-version VERSION]
                   build the engine guest from this machine's packages, or reuse the cached one
                   (DIR absolute, default ~/.cache/slipway/engine-image; VERSION as in /boot/vmlinuz-VERSION)
            """;

    private final Optional<Path> dist;
    private final Duration timeout;

    EngineImage(Optional<Path> dist, Duration timeout) {
        this.dist = dist;
        this.timeout = timeout;
    }

    /** {@code args}: the words after {@code image}. */
    CommandResult run(List<String> args) throws IOException, InterruptedException {
        List<String> scriptArgs = new ArrayList<>();
        for (int i = 0; i < args.size(); i += 2) {
            String option = args.get(i);
            if (!option.equals("--out") && !option.equals("--kernel-version")) {
                return CommandResult.usage("unknown option " + option + "\n" + USAGE);
            }
            if (i + 1 >= args.size() || args.get(i + 1).isBlank()) {
                return CommandResult.usage(option + " needs a value\n" + USAGE);
            }
            String value = args.get(i + 1);
            if (option.equals("--out") && !Path.of(value).isAbsolute()) {
                return CommandResult.usage("--out takes an absolute directory, not " + value + "\n" + USAGE);
            }
            if (option.equals("--kernel-version") && !value.matches("[A-Za-z0-9._+-]+")) {
                return CommandResult.usage("--kernel-version takes a version as in /boot/vmlinuz-VERSION, not " + value + "\n" + USAGE);
            }
            if (scriptArgs.contains(option)) {
                return CommandResult.usage(option + " is given twice\n" + USAGE);
            }
            scriptArgs.add(option);
            scriptArgs.add(value);
        }
        if (dist.isEmpty()) {
            return CommandResult.failure("vm image: this runtime does not know the distribution it runs from (slipway.dist is not set);"
                    + " from a Slipway source tree, run guest/build-engine-image.sh\n");
        }
        Path script = dist.get().resolve(SCRIPT);
        if (!Files.isRegularFile(script)) {
            return CommandResult.failure("vm image: the distribution " + dist.get() + " has no " + SCRIPT
                    + " (it was built without the engine guest's sources); from a Slipway source tree,"
                    + " run guest/build-engine-image.sh, or rebuild the distribution there\n");
        }
        Path scratch = Files.createTempDirectory("slipway-vm-image");
        try {
            List<String> command = new ArrayList<>(List.of("bash", script.toString()));
            command.addAll(scriptArgs);
            Process p;
            try {
                p = new ProcessBuilder(command).redirectOutput(scratch.resolve("out").toFile())
                        .redirectError(scratch.resolve("err").toFile()).start();
            } catch (IOException e) {
                return CommandResult.failure("vm image: cannot run bash (" + e.getMessage() + "); the image script needs it\n");
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                return CommandResult.failure("vm image: the build took longer than " + timeout.toMinutes() + " minutes and was stopped\n"
                        + Files.readString(scratch.resolve("err"), StandardCharsets.UTF_8));
            }
            String progress = Files.readString(scratch.resolve("err"), StandardCharsets.UTF_8);
            List<String> out = Files.readString(scratch.resolve("out"), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).toList();
            if (p.exitValue() != 0) {
                return CommandResult.failure(progress + "vm image failed (" + script + " exited " + p.exitValue() + ")\n");
            }
            if (out.isEmpty()) {
                return CommandResult.failure(progress + "vm image: " + script + " did not say where the image is\n");
            }
            Path image = Path.of(out.get(out.size() - 1));
            return new CommandResult("image:   " + image + "\n"
                    + "kernel:  " + image.resolve("vmlinuz") + "\n"
                    + "initrd:  " + image.resolve("initrd.img") + "\n"
                    + "the helper boots it once installed with: sudo slipway helper install --setting vm-kernel="
                    + image.resolve("vmlinuz") + " --setting vm-initrd=" + image.resolve("initrd.img") + "\n", progress, 0);
        } finally {
            Files.deleteIfExists(scratch.resolve("out"));
            Files.deleteIfExists(scratch.resolve("err"));
            Files.deleteIfExists(scratch);
        }
    }
}
