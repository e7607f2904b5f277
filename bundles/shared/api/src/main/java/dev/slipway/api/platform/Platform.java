package dev.slipway.api.platform;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The facts about the host operating system that the rest of Slipway needs. Exactly one platform
 * bundle resolves on a machine (selected by the framework through {@code osgi.native}) and
 * registers this service; no other bundle looks at the OS itself.
 */
@ProviderType
public interface Platform {

    /** A stable identifier: {@code linux}, {@code macos} or {@code windows}. */
    String osName();

    /** The system hosts file that the helper maintains. */
    Path hostsFile();

    /** The privileged helper's protected socket. */
    Path helperSocket();

    /** Where the CLI tools are linked for the current user, without privilege. */
    Path userBinDir();

    /** Where the CLI tools are linked for all users, through the helper. */
    Path systemBinDir();

    /** Where Slipway is installed for all users. */
    Path systemInstallDir();

    /** Where Slipway is installed for the current user. */
    Path userInstallDir();

    /** The per-user runtime directory holding the control socket, pid and log files. */
    Path runtimeDir();
}
