package dev.slipway.networking.api;

import java.net.InetAddress;

import org.osgi.annotation.versioning.ProviderType;

/** The guest network's addresses, as configured. */
@ProviderType
public interface GuestNetwork {

    /** The gateway: DNS, DHCP and the control ports inside the guest network. */
    InetAddress gateway();

    /** The address that stands for the host's loopback inside the guest network. */
    InetAddress hostAlias();

    /** The link MTU offered to guests. */
    int mtu();

    /**
     * The destinations no guest traffic may reach, by any path (the stack's own connections, the
     * proxy's interception and explicit proxy): cloud metadata services unless configured
     * otherwise, less link-local when that is allowed.
     *
     * @since 1.2
     */
    default CidrList refusedDestinations() {
        return CidrList.cloudMetadata();
    }
}
