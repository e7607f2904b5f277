package dev.slipway.api.helper;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The helper's install-time configuration, as the helper process sees it: a framework property
 * {@code slipway.helper.KEY} wins over {@code KEY} in the root-owned configuration file written by
 * {@code slipway helper install}. Every system location the helper touches is one of these keys,
 * so tests can point all of them into a directory of their own.
 */
@ProviderType
public interface HelperSettings {

    /** Prefix of the framework properties that set these keys. */
    String PROPERTY_PREFIX = "slipway.helper.";

    /** Framework property: the configuration file's location. */
    String CONFIG_FILE_PROPERTY = "slipway.helper.config";

    String GROUP = "group";
    /** {@code --user NAME} mode: the one user the helper serves. */
    String USER = "user";
    String SOCKET = "socket";
    /** Comma-separated IP literals, besides loopback, that {@code ports.bind} may bind for callers. */
    String PORTS_BIND_ADDRESSES = "ports-bind-addresses";
    String AUDIT_LOG = "audit-log";
    /** Bytes an audit log file may reach before it is rotated (default 8 MiB). */
    String AUDIT_LOG_FILE_BYTES = "audit-log-file-bytes";
    /** How many audit log files are kept, the current one included (default 10). */
    String AUDIT_LOG_FILES = "audit-log-files";
    String HOSTS_FILE = "hosts-file";
    /** {@code true}/{@code false}: keep host.docker.internal / gateway.docker.internal in the hosts file. */
    String HOSTS_HOST_GATEWAY = "hosts-host-gateway";
    /** The system bin dir for the CLI links (default /usr/local/bin). */
    String BIN_DIR = "bin-dir";
    /** Slipway's install dir; CLI links point into its {@code bin}. */
    String INSTALL_DIR = "install-dir";
    /** Comma-separated CLI tool names linked from the install dir's bin. */
    String CLI_TOOLS = "cli-tools";
    /** The system docker.sock link (default /var/run/docker.sock). */
    String DOCKER_SOCK = "docker-sock";
    /** The user's Slipway docker socket, relative to the user's home. */
    String USER_DOCKER_SOCK = "user-docker-sock";
    /** The VM's fixed, root-owned directory: disk, state, console log (default /var/lib/slipway/vm). */
    String VM_DIR = "vm-dir";
    /** The guest kernel and initramfs the VM boots. */
    String VM_KERNEL = "vm-kernel";
    String VM_INITRD = "vm-initrd";
    /** The guest kernel's command line (default {@value #DEFAULT_VM_CMDLINE}). */
    String VM_CMDLINE = "vm-cmdline";
    String VM_MEMORY_MB = "vm-memory-mb";
    String VM_CPUS = "vm-cpus";
    String VM_DISK_GB = "vm-disk-gb";
    /** {@code auto} (KVM when a probe emulator runs a vCPU with it, else TCG), {@code kvm} or {@code tcg}. */
    String VM_ACCEL = "vm-accel";
    /** The emulator binary (default qemu-system-x86_64 from PATH). */
    String VM_EMULATOR = "vm-emulator";
    /**
     * Comma-separated absolute directories, written at install, that {@code vm.move-disk} may move
     * the disk into whoever owns them; otherwise a destination must be the caller's own directory.
     */
    String VM_DISK_DIRS = "vm-disk-dirs";
    /**
     * The unprivileged account the emulator runs as (default: the calling member; the emulator never
     * runs as root).
     */
    String VM_USER = "vm-user";
    /** The user's Slipway VM network socket, relative to the user's home. */
    String USER_VM_SOCKET = "user-vm-socket";
    /** The root-owned directory of stored policies (default: the platform's, e.g. /etc/slipway/policy). */
    String POLICY_DIR = "policy-dir";
    /** The organisation's Ed25519 public key (base64 X.509) that policies must be signed with. */
    String POLICY_PUBLIC_KEY = "policy-public-key";
    String MAX_CONNECTIONS = "max-connections";
    String WORKERS = "workers";
    String IDLE_TIMEOUT_MS = "idle-timeout-ms";

    String DEFAULT_USER_DOCKER_SOCK = ".slipway/run/docker.sock";
    String DEFAULT_USER_VM_SOCKET = ".slipway/run/vm.sock";
    String DEFAULT_VM_CMDLINE = "console=ttyS0 quiet";
    String DEFAULT_CLI_TOOLS = "docker,docker-compose,docker-credential-slipway,kubectl,slipway";

    Optional<String> get(String key);

    default String get(String key, String fallback) {
        return get(key).orElse(fallback);
    }
}
