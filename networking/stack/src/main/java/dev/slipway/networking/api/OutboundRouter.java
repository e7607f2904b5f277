package dev.slipway.networking.api;

import java.net.InetSocketAddress;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides where a new guest TCP connection goes: as the guest asked, to another address, into the
 * router's own hands (an interceptor such as the transparent proxy, which gets the guest's
 * connection itself through {@link #intercept}), or nowhere. Register it as a service; the stack
 * consults the one with the highest ranking for every guest SYN to a host other than the
 * gateway's DNS port, including the gateway's other ports.
 *
 * <p>Threading: both methods are called on the stack's event loop with its lock held: they must
 * answer at once, never block, and {@link #route} should not allocate for connections it leaves
 * alone. An exception from {@link #route} refuses the connection; one from {@link #intercept}
 * resets it.
 *
 * <p>Since 2.0: interception hands over the guest connection instead of a redirect to a loopback
 * listener; {@code redirected(...)} is gone.
 */
@ConsumerType
public interface OutboundRouter {

    /** The answer that refuses the connection: the guest gets a reset. */
    InetSocketAddress REFUSE = InetSocketAddress.createUnresolved("refuse", 9);

    /** The answer that takes the connection: the stack accepts it and calls {@link #intercept}. */
    InetSocketAddress INTERCEPT = InetSocketAddress.createUnresolved("intercept", 9);

    /**
     * Where the connection goes. Addresses are IPv4 addresses as big-endian ints.
     *
     * @return null to connect to {@code dstIp:dstPort} as asked (the host alias stands for the
     *         host's loopback), {@link #REFUSE}, {@link #INTERCEPT}, or a resolved address to
     *         connect to instead (another unresolved one refuses the connection too)
     */
    InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort);

    /**
     * After {@link #route} answered {@link #INTERCEPT}: the guest's connection, established. The
     * router owns it from now on (see {@link GuestConnection}) and must hand it to a thread of
     * its own before it reads or writes: this call runs on the event loop and must not block.
     */
    void intercept(GuestConnection connection);
}
