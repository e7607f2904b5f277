package dev.slipway.api.control;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A {@code slipway NAME ...} sub-command served by the running runtime. Register it as a service
 * with the property {@value #NAME}; the CLI forwards every command it does not handle itself
 * to the runtime, which dispatches it to the service with that name.
 */
@ConsumerType
public interface ControlCommand {

    /** Service property: the sub-command's name, e.g. {@code dns} for {@code slipway dns ...}. */
    String NAME = "slipway.command";

    /** Service property: a one-line summary shown by {@code slipway help}. */
    String SUMMARY = "slipway.command.summary";

    /**
     * Runs the command.
     *
     * @param args the words after the command's name
     * @return what to print and the exit code; a usage error is a result with exit code 2, not an exception
     */
    CommandResult execute(List<String> args) throws Exception;
}
