package dev.slipway.net.api;

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
}
