package dev.slipway.api.helper;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * The helper service as the OS sees it.
 *
 * @param running whether the helper process runs
 * @param pid its process id, where known
 * @param startedBy what started it or would start it, in words (e.g. {@code systemd unit slipway-helper.service},
 *        or {@code slipway helper install, no service manager (log /var/log/slipway/helper.log)})
 */
public record HelperServiceStatus(boolean running, OptionalLong pid, String startedBy) {

    public HelperServiceStatus {
        Objects.requireNonNull(pid, "pid");
        Objects.requireNonNull(startedBy, "startedBy");
    }

    /** {@code running (pid 42; systemd unit …)} or {@code not running (…)}. */
    public String describe() {
        return (running ? "running" : "not running") + " (" + (pid.isPresent() ? "pid " + pid.getAsLong() + "; " : "") + startedBy + ")";
    }
}
