package dev.slipway.api.helper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/** The system's user and group database (NSS on Linux, Directory Services on macOS), read-only. */
@ProviderType
public interface AccountDirectory {

    /**
     * The users listed as members of {@code group} (its supplementary members; a user whose
     * primary group it is shows up in the peer credentials instead).
     *
     * @return empty when the group does not exist
     */
    Set<String> groupMembers(String group) throws IOException;

    /** Whether a group of that name exists. */
    boolean groupExists(String group) throws IOException;

    /** The home directory of {@code user}, if the user exists. */
    Optional<Path> homeDirectory(String user) throws IOException;
}
