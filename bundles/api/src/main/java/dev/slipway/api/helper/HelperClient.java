package dev.slipway.api.helper;

import java.nio.file.Path;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/** The runtime's connection to the privileged helper. */
@ProviderType
public interface HelperClient {

    /** The helper's socket this client talks to. */
    Path socket();

    /**
     * Sends one request and waits for its reply.
     *
     * @param params parameters as defined by {@link HelperSchema} for {@code operation}
     * @return the reply's result object
     * @throws HelperException the helper's error reply, or {@link HelperErrors#UNAVAILABLE} when
     *         the helper is not installed or not running
     */
    Map<String, Object> call(String operation, Map<String, String> params) throws HelperException;
}
