package dev.slipway.api.platform;

import java.time.Duration;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs operating-system commands (scutil, launchctl, sc.exe, ip, ...). Every OS command Slipway
 * issues goes through this one service, so tests can replace it and check exactly what would run.
 */
@ProviderType
public interface CommandRunner {

    /** What a finished command left behind. */
    record Result(int exitCode, String stdout, String stderr) {
        public boolean succeeded() {
            return exitCode == 0;
        }
    }

    /**
     * Runs {@code command} (program and arguments, never through a shell) and waits for it.
     *
     * @throws java.io.IOException if it cannot be started or does not finish within {@code timeout}
     *         (it is then killed)
     */
    Result run(List<String> command, Duration timeout) throws java.io.IOException;
}
