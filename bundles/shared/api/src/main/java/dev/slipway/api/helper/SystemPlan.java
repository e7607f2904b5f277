package dev.slipway.api.helper;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * An ordered list of system changes (files to write, commands to run, files to remove) that a
 * platform bundle produces for installing or removing something; whoever applies it runs the
 * commands through the {@code CommandRunner}, so tests can check exactly what would happen.
 */
public record SystemPlan(List<Step> steps, List<String> notes) {

    public SystemPlan {
        steps = List.copyOf(steps);
        notes = List.copyOf(notes);
    }

    public static SystemPlan of(List<Step> steps) {
        return new SystemPlan(steps, List.of());
    }

    /** One change. */
    public sealed interface Step permits WriteFile, RunCommand, RemoveFile {}

    /**
     * Writes {@code content} (UTF-8) to {@code path}, creating parent directories, replacing it atomically.
     *
     * @param mode POSIX mode in octal, e.g. {@code 0644} (ignored where the OS has none)
     */
    public record WriteFile(Path path, String content, String mode) implements Step {
        public WriteFile {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(content, "content");
            Objects.requireNonNull(mode, "mode");
        }
    }

    /**
     * Runs a command (program and arguments, no shell).
     *
     * @param mayFail whether a non-zero exit is acceptable (e.g. stopping a service that is not running)
     */
    public record RunCommand(List<String> command, boolean mayFail) implements Step {
        public RunCommand {
            command = List.copyOf(command);
        }
    }

    /** Removes {@code path} if it exists (a file or a link, never a directory tree). */
    public record RemoveFile(Path path) implements Step {
        public RemoveFile {
            Objects.requireNonNull(path, "path");
        }
    }
}
