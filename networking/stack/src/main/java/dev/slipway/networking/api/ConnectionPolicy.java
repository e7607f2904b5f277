package dev.slipway.networking.api;

import java.net.InetAddress;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard: decides by name whether a guest may reach a destination. Consulted by the parts that
 * learn the name a guest means: the transparent proxy (TLS SNI, HTTP Host, CONNECT target) and the
 * gateway's DNS (the question's name). Every registered policy must allow a destination.
 */
@ConsumerType
public interface ConnectionPolicy {

    /** What the name was taken from. */
    enum Source { TLS_SNI, HTTP_HOST, PROXY_CONNECT, DNS_QUESTION }

    /**
     * @param name    the destination's host name, lower case without a trailing dot; an IP address in
     *                text form when the guest gave no name
     * @param address the destination's address, or null when not known yet (DNS)
     * @param port    the destination port, 0 for DNS
     * @return null to allow, otherwise the reason for refusing, shown to the guest where the
     *         protocol can carry it
     */
    String refusal(String name, InetAddress address, int port, Source source);
}
