package dev.slipway.api.helper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * How this OS installs, removes and reports the helper service (systemd, launchd, the Windows
 * service manager), and where the helper's fixed locations are.
 */
@ProviderType
public interface HelperServiceDefinitions {

    /** The helper's install-time configuration file (root/SYSTEM-owned, read by the helper at start). */
    Path configFile();

    /** The helper's audit log. */
    Path auditLog();

    /** The changes that install the helper as {@code options} say; per-user mode installs no service. */
    SystemPlan install(InstallOptions options);

    /**
     * The changes that bring an installed helper in line with new options (its configuration file;
     * on Windows also the service's start mode, which depends on the engine and the hosts setting).
     */
    SystemPlan reconfigure(InstallOptions options);

    /** The changes that remove the helper service and its files (the users' group is kept). */
    SystemPlan uninstall(InstallOptions options);

    /** A command whose exit code 0 means the helper service is running. */
    List<String> statusCommand();

    /** Whether the helper runs, its process id where known, and what started it (a service manager or install itself). */
    HelperServiceStatus serviceStatus() throws IOException;

    /**
     * Refuses a location the helper would run code from or read trusted files in (the install dir,
     * the JDK) unless nobody but the administrator can change it: {@code path} and every directory
     * above it up to the root, and for a directory everything below it, must be owned by the
     * administrator (or the user this process runs as) and closed to writes by anyone else.
     *
     * @throws IOException naming the first offending file or directory and what is wrong with it
     */
    void requireTrusted(Path path) throws IOException;

    /**
     * Refuses a directory Slipway writes into without owning what else it holds (the install dir's
     * parent) unless it and every directory above it are the administrator's and closed to writes by
     * anyone else; what else lies below it is not Slipway's business.
     *
     * @throws IOException naming the first offending directory and what is wrong with it
     */
    void requireTrustedChain(Path directory) throws IOException;

    /**
     * The boot-time rule that re-creates {@code link} -> {@code target} (a systemd-tmpfiles rule, a
     * launchd startup task); empty where the OS has no such link (Windows uses a named pipe).
     */
    Optional<SystemPlan> dockerSockBootLink(Path link, Path target);

    /** Removes the boot-time rule again. */
    SystemPlan removeDockerSockBootLink();

    /** Whether this process runs as root / an elevated administrator. */
    boolean elevated() throws IOException;
}
