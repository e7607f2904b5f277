package dev.slipway.api.helper;

import java.nio.file.Path;
import java.util.List;
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
 * @param members users to add to the group (the installing user; the {@code --user} user)
 */
public record InstallOptions(Mode mode, Optional<String> user, String group, Engine engine,
        boolean maintainHostGatewayNames, Path installDir, List<String> members) {

    public static final String DEFAULT_GROUP = "slipway-users";

    public InstallOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(installDir, "installDir");
        members = List.copyOf(members);
        requireAccountName(group);
        user.ifPresent(InstallOptions::requireAccountName);
        members.forEach(InstallOptions::requireAccountName);
    }

    /** User and group names end up in configuration files and commands: letters, digits, {@code _ . -} only. */
    static void requireAccountName(String name) {
        if (!name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")) {
            throw new IllegalArgumentException("not a valid user or group name: " + name.replaceAll("\\p{Cntrl}", "?"));
        }
    }

    /** The configuration file's content for these options (keys of {@link HelperSettings}). */
    public String configuration() {
        StringBuilder out = new StringBuilder("# Slipway helper install configuration; written by slipway helper install\n");
        out.append(HelperSettings.GROUP).append('=').append(group).append('\n');
        user.ifPresent(u -> out.append(HelperSettings.USER).append('=').append(u).append('\n'));
        out.append(HelperSettings.INSTALL_DIR).append('=').append(installDir.toString().replace("\\", "\\\\")).append('\n');
        out.append(HelperSettings.HOSTS_HOST_GATEWAY).append('=').append(maintainHostGatewayNames).append('\n');
        return out.toString();
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
