package dev.slipway.api.helper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The CLI tools' links in the user's own Slipway bin dir, made by the runtime as the user (no
 * helper, no privilege). Only links pointing into Slipway's install dir are ever replaced or removed.
 */
@ProviderType
public interface UserCliLinks {

    /** The user's bin dir, which the user adds to PATH. */
    Path binDir();

    /** @return tool name to {@code created}, {@code replaced} or {@code unchanged} */
    Map<String, String> install() throws IOException;

    /** @return tool name to {@code removed}, {@code absent} or {@code not Slipway's, left alone} */
    Map<String, String> remove() throws IOException;
}
