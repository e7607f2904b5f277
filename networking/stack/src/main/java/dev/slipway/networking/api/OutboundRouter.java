package dev.slipway.networking.api;

import java.net.InetSocketAddress;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides where a new guest TCP connection goes: as the guest asked, somewhere else (an
 * interceptor of the runtime's own, for instance a transparent proxy on 127.0.0.1), or nowhere.
 * Register it as a service; the stack consults the one with the highest ranking for every guest
 * SYN to a host other than the gateway's DNS port, including the gateway's other ports.
 *
 * <p>Both methods are called on the stack's event loop: they must answer at once, never block,
 * and should not allocate for connections they leave alone. An exception refuses the connection.
 */
@ConsumerType
public interface OutboundRouter {

    /** The answer that refuses the connection: the guest gets a reset. */
    InetSocketAddress REFUSE = InetSocketAddress.createUnresolved("refuse", 9);

    /**
     * Where the connection goes. Addresses are IPv4 addresses as big-endian ints.
     *
     * @return null to connect to {@code dstIp:dstPort} as asked (the host alias stands for the
     *         host's loopback), {@link #REFUSE}, or a resolved address to connect to instead (an
     *         unresolved one refuses the connection too)
     */
    InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort);

    /**
     * After {@link #route} redirected a connection: the host socket bound to {@code local} is
     * about to connect to the redirect target on behalf of the guest's connection to
     * {@code dstIp:dstPort}. The target sees {@code local} as its peer address, which is how it
     * learns the original destination.
     */
    void redirected(InetSocketAddress local, int guestIp, int guestPort, int dstIp, int dstPort);
}
