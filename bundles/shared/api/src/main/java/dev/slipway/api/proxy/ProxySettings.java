package dev.slipway.api.proxy;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The user's proxy settings, provided by the platform bundle: the environment (HTTP_PROXY and
 * friends) first, then the system's settings (macOS {@code scutil --proxy}, Windows per-user
 * Internet Settings); re-read when they change.
 */
@ProviderType
public interface ProxySettings {

    /** The settings in force now. */
    ProxyConfig current();

    /**
     * Whiteboard: register a {@code Listener} service to hear when the settings change; it is
     * called on the platform bundle's own thread.
     */
    @ConsumerType
    interface Listener {
        void proxySettingsChanged(ProxyConfig config);
    }
}
