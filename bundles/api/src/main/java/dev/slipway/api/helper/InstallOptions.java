package dev.slipway.api.helper;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code slipway helper install} was asked for.
 *
 * @param mode all users (the helper service is installed) or per user (no helper)
 * @param user in {@code --user NAME} mode, the one user the helper serves; the privileged
 *        configuration is applied for that user at install time
 * @param group the group whose members may use the helper (default {@code slipway-users})
 * @param engine the VM engine, which decides the Windows service's start mode
 * @param maintainHostGatewayNames whether host.docker.internal/gateway.docker.internal are kept in
 *        the hosts file (makes the Windows service start at boot under WSL 2)
 * @param installDir where Slipway is installed (its {@code bin} holds the CLI tools and the helper launcher)
 */
public record InstallOptions(Mode mode, Optional<String> user, String group, Engine engine,
        boolean maintainHostGatewayNames, Path installDir) {

    public static final String DEFAULT_GROUP = "slipway-users";

    public InstallOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(installDir, "installDir");
    }

    public enum Mode {
        ALL_USERS, PER_USER
    }

    public enum Engine {
        /** Slipway's own VM (Linux/macOS) or WSL 2 on Windows. */
        WSL2,
        HYPERV,
        WINDOWS_CONTAINERS,
        /** Linux and macOS: Slipway's QEMU / Virtualization.framework VM. */
        VM
    }
}
