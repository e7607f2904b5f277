package dev.slipway.api.helper;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

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
 * @param settings further helper settings written into the configuration file, by {@link HelperSettings} key;
 *        only the keys of {@link #INSTALL_TIME_SETTINGS} (the helper's locations, its allowed bind addresses and
 *        the VM's kernel, initramfs, emulator account and size)
 */
public record InstallOptions(Mode mode, Optional<String> user, String group, Engine engine,
        boolean maintainHostGatewayNames, Path installDir, List<String> members, Map<String, String> settings) {

    public static final String DEFAULT_GROUP = "slipway-users";

    /** The settings an administrator may give at install time ({@code --setting KEY=VALUE}). */
    public static final Set<String> INSTALL_TIME_SETTINGS = Set.of(HelperSettings.HOSTS_FILE, HelperSettings.BIN_DIR,
            HelperSettings.DOCKER_SOCK, HelperSettings.AUDIT_LOG, HelperSettings.VM_DIR, HelperSettings.POLICY_DIR,
            HelperSettings.PORTS_BIND_ADDRESSES, HelperSettings.CLI_TOOLS, HelperSettings.VM_KERNEL, HelperSettings.VM_INITRD,
            HelperSettings.VM_USER, HelperSettings.VM_MEMORY_MB, HelperSettings.VM_CPUS, HelperSettings.VM_DISK_GB);

    /** The settings among {@link #INSTALL_TIME_SETTINGS} that are absolute paths the helper writes. */
    public static final Set<String> PATH_SETTINGS = Set.of(HelperSettings.HOSTS_FILE, HelperSettings.BIN_DIR,
            HelperSettings.DOCKER_SOCK, HelperSettings.AUDIT_LOG, HelperSettings.VM_DIR, HelperSettings.POLICY_DIR);

    /** The settings among {@link #INSTALL_TIME_SETTINGS} that are absolute paths the VM's emulator reads. */
    public static final Set<String> READ_PATH_SETTINGS = Set.of(HelperSettings.VM_KERNEL, HelperSettings.VM_INITRD);

    /** The settings among {@link #INSTALL_TIME_SETTINGS} that are whole numbers, with their smallest and largest value. */
    public static final Map<String, long[]> NUMBER_SETTINGS = Map.of(HelperSettings.VM_MEMORY_MB, new long[] {64, 1 << 20},
            HelperSettings.VM_CPUS, new long[] {1, 256}, HelperSettings.VM_DISK_GB, new long[] {1, 1 << 16});

    /** Without install-time settings. */
    public InstallOptions(Mode mode, Optional<String> user, String group, Engine engine, boolean maintainHostGatewayNames,
            Path installDir, List<String> members) {
        this(mode, user, group, engine, maintainHostGatewayNames, installDir, members, Map.of());
    }

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
        settings = Map.copyOf(new LinkedHashMap<>(settings));
        settings.forEach(InstallOptions::requireInstallTimeSetting);
    }

    private static void requireInstallTimeSetting(String key, String value) {
        if (!INSTALL_TIME_SETTINGS.contains(key)) {
            throw new IllegalArgumentException("not a setting for install time: " + key.replaceAll("\\p{Cntrl}", "?")
                    + " (one of " + String.join(", ", new java.util.TreeSet<>(INSTALL_TIME_SETTINGS)) + ")");
        }
        if (value.isBlank() || !value.equals(value.strip()) || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '\\')) {
            throw new IllegalArgumentException("setting " + key + ": the value must be non-blank, without surrounding spaces, "
                    + "control characters or backslashes");
        }
        if ((PATH_SETTINGS.contains(key) || READ_PATH_SETTINGS.contains(key)) && !Path.of(value).isAbsolute()) {
            throw new IllegalArgumentException("setting " + key + " needs an absolute path, not " + value);
        }
        if (READ_PATH_SETTINGS.contains(key) && !Path.of(value).normalize().toString().equals(value)) {
            throw new IllegalArgumentException("setting " + key + " needs a normal path (no . or .. or repeated /), not " + value);
        }
        long[] range = NUMBER_SETTINGS.get(key);
        if (range != null) {
            long number;
            try {
                number = value.matches("[0-9]{1,9}") ? Long.parseLong(value) : -1;
            } catch (NumberFormatException e) {
                number = -1;
            }
            if (number < range[0] || number > range[1]) {
                throw new IllegalArgumentException("setting " + key + " needs a whole number from " + range[0] + " to " + range[1]
                        + ", not " + value);
            }
        }
        if (key.equals(HelperSettings.VM_USER)) {
            requireAccountName(value);
            if (value.equals("root")) {
                throw new IllegalArgumentException("setting " + key + ": the emulator never runs as root");
            }
        }
    }

    /** The install-time setting {@code key}, if given. */
    public Optional<String> setting(String key) {
        return Optional.ofNullable(settings.get(key));
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
        new java.util.TreeMap<>(settings).forEach((key, value) -> out.append(key).append('=').append(value).append('\n'));
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
