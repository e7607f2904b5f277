package dev.slipway.networking.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Connections and flows from the host into the guest network, for published ports: the caller
 * owns the host-side sockets, the stack opens the guest side from the gateway's address.
 */
@ProviderType
public interface GuestConnector {

    /**
     * Checks that {@code guest} can be a guest's address: inside the guest subnet and none of the
     * network's own (gateway, host alias, network, broadcast).
     *
     * @throws IllegalArgumentException saying why it cannot
     */
    void checkGuestAddress(InetAddress guest);

    /**
     * Carries an accepted host connection to {@code guest}: the stack sends a SYN to the guest and
     * relays both directions once it answers. The stack owns {@code hostSide} from now on and closes
     * it (with a reset when the guest refuses).
     *
     * @throws IOException when the connection cannot be opened (the caller still owns and closes {@code hostSide})
     */
    void connect(SocketChannel hostSide, InetSocketAddress guest) throws IOException;

    /**
     * Opens a UDP flow to {@code guest} from a port of the gateway; the guest's replies to it go to
     * {@code replies}, called on the stack's threads with a buffer it must not keep.
     *
     * @throws IOException when the flow table is full
     */
    GuestDatagramFlow openDatagramFlow(InetSocketAddress guest, DatagramReceiver replies) throws IOException;

    /**
     * Checks that {@code target} can be reached through the guest {@code via}: {@code via} passes
     * {@link #checkGuestAddress} and {@code target} is an IPv4 unicast address outside the guest
     * network, one the guest routes to (a container on the guest's own bridge).
     *
     * @throws IllegalArgumentException saying why it cannot
     * @since 2.1
     */
    void checkRoute(InetAddress target, InetAddress via);

    /**
     * As {@link #connect(SocketChannel, InetSocketAddress)} to {@code target} behind the guest
     * {@code via}: the stack's packets go to {@code via}'s link address, and the guest forwards them.
     *
     * @throws IllegalArgumentException when {@link #checkRoute} refuses the pair (the caller still owns {@code hostSide})
     * @throws IOException when the connection cannot be opened (the caller still owns and closes {@code hostSide})
     * @since 2.1
     */
    void connect(SocketChannel hostSide, InetSocketAddress target, InetAddress via) throws IOException;

    /**
     * As {@link #openDatagramFlow(InetSocketAddress, DatagramReceiver)} to {@code target} behind the
     * guest {@code via}, as {@link #connect(SocketChannel, InetSocketAddress, InetAddress)} reaches it.
     *
     * @throws IOException when the flow table is full
     * @since 2.1
     */
    GuestDatagramFlow openDatagramFlow(InetSocketAddress target, InetAddress via, DatagramReceiver replies)
            throws IOException;
}
