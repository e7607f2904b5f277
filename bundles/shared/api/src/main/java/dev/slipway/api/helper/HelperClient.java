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

    /**
     * A reply that carried a descriptor (SCM_RIGHTS) ahead of its JSON.
     *
     * @param result the reply's result object
     * @param descriptor the received descriptor, owned by the receiver from now on (close it when done)
     */
    record DescriptorReply(Map<String, Object> result, int descriptor) {}

    /**
     * Sends one request whose reply passes a descriptor, such as {@link HelperSchema#PORTS_BIND}, on a
     * connection of its own; the helper passes the descriptor on that connection and no other.
     *
     * @throws HelperException the helper's error reply (then no descriptor was received), or
     *         {@link HelperErrors#UNAVAILABLE} when this client or platform cannot receive descriptors
     */
    default DescriptorReply callForDescriptor(String operation, Map<String, String> params) throws HelperException {
        throw new HelperException(HelperErrors.UNAVAILABLE, "this helper client cannot receive descriptors");
    }
}
