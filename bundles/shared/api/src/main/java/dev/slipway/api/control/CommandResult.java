package dev.slipway.api.control;

import java.util.Objects;

/** The outcome of a {@link ControlCommand}: text for standard output, text for standard error, an exit code. */
public record CommandResult(String out, String err, int exitCode) {

    public CommandResult {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
    }

    public static CommandResult ok(String out) {
        return new CommandResult(out, "", 0);
    }

    public static CommandResult usage(String message) {
        return new CommandResult("", message, 2);
    }

    public static CommandResult failure(String message) {
        return new CommandResult("", message, 1);
    }
}
