package dev.slipway.api.helper;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The connection a request came in on, as far as a handler may use it. A reply can only ever go back
 * to the peer that asked: nothing in a request can name another connection.
 */
@ProviderType
public interface CallerConnection {

    /**
     * Passes {@code descriptor} to the caller with SCM_RIGHTS, on one marker byte sent ahead of the reply.
     * The caller receives its own duplicate; the handler still owns {@code descriptor} and closes it.
     *
     * @throws HelperException {@link HelperErrors#UNAVAILABLE} when this helper or platform cannot pass
     *         descriptors, {@link HelperErrors#FAILED} when the connection is gone or sending failed
     */
    void sendDescriptor(int descriptor) throws HelperException;
}
