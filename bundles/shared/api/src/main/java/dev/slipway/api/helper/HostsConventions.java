package dev.slipway.api.helper;

import org.osgi.annotation.versioning.ProviderType;

/** How this OS wants its hosts file edited. */
@ProviderType
public interface HostsConventions {

    /** How a changed hosts file reaches the disk. */
    enum WriteStrategy {
        /** Write a temp file in the same directory, fsync, rename over (Linux, macOS). */
        REPLACE_BY_RENAME,
        /**
         * Copy to a backup, then rewrite the file in place (Windows: a rename would drop the
         * file's ACL and the DNS client's change notification).
         */
        REWRITE_IN_PLACE_AFTER_BACKUP
    }

    WriteStrategy writeStrategy();

    /** The line separator for a file that has none yet. */
    String lineSeparator();

    /**
     * Whether {@code host.docker.internal} and {@code gateway.docker.internal} are maintained in
     * the hosts file by default (the Windows-style configuration).
     */
    boolean hostGatewayNamesByDefault();
}
