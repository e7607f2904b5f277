package dev.slipway.networking.stack;

/** Why a frame was dropped; counted per reason and shown in {@code slipway net status}. */
public enum Drop {
    TRUNCATED("truncated"),
    UNKNOWN_ETHERTYPE("unknown-ethertype"),
    IPV6_UNSUPPORTED("ipv6-unsupported"),
    BAD_IP_HEADER("bad-ip-header"),
    BAD_IP_CHECKSUM("bad-ip-checksum"),
    BAD_TCP_CHECKSUM("bad-tcp-checksum"),
    BAD_UDP_CHECKSUM("bad-udp-checksum"),
    BAD_ICMP_CHECKSUM("bad-icmp-checksum"),
    TTL_EXPIRED("ttl-expired"),
    UNSUPPORTED_PROTOCOL("unsupported-protocol"),
    FRAGMENT_OVERLAP("fragment-overlap"),
    FRAGMENT_TOO_LARGE("fragment-too-large"),
    FRAGMENT_TIMEOUT("fragment-timeout"),
    FRAGMENT_EVICTED("fragment-evicted"),
    NOT_FOR_US("not-for-us"),
    NO_GUEST_MAC("no-guest-mac"),
    ICMP_IGNORED("icmp-ignored"),
    /** A destination of {@link NetConfig#refusedDestinations()} (cloud metadata): answered with a reset or ICMP prohibited. */
    METADATA_REFUSED("metadata-refused"),
    BROADCAST_IGNORED("broadcast-ignored"),
    TCP_NO_CONNECTION("tcp-no-connection"),
    TCP_OUT_OF_ORDER("tcp-out-of-order"),
    TCP_WINDOW_FULL("tcp-window-full"),
    TCP_CONNECTION_LIMIT("tcp-connection-limit"),
    TCP_HALF_OPEN_LIMIT("tcp-half-open-limit"),
    UDP_FLOW_LIMIT("udp-flow-limit"),
    UDP_SEND_FAILED("udp-send-failed"),
    DHCP_INVALID("dhcp-invalid"),
    DHCP_POOL_EXHAUSTED("dhcp-pool-exhausted"),
    DNS_UNAVAILABLE("dns-unavailable"),
    OVERSIZED("oversized"),
    /** The guest's link queue was full; TCP sends the frame again when it drains. */
    LINK_FULL("link-full"),
    TRANSPORT_ERROR("transport-error"),
    /** An IPv6 extension-header chain too long, malformed, out of order or ending in a header we do not take. */
    IPV6_EXTENSION_HEADERS("ipv6-extension-headers"),
    /** An IPv6 source address no guest may use: multicast, ours, or unspecified outside address discovery. */
    IPV6_BAD_SOURCE("ipv6-bad-source"),
    /** A non-last IPv6 fragment too small for any real link, or a first fragment without the whole header chain. */
    FRAGMENT_TINY("fragment-tiny"),
    /** A neighbour-discovery message that fails RFC 4861's validity checks. */
    ND_INVALID("nd-invalid"),
    /** A guest claiming the gateway's or the host alias's IPv6 address. */
    ND_SPOOFED("nd-spoofed"),
    /** Solicitations beyond what the gateway answers per second. */
    ND_RATE_LIMITED("nd-rate-limited"),
    /** A router advertisement or redirect sent by a guest: only the gateway is a router here. */
    ROUTER_ADVERTISEMENT_FROM_GUEST("ra-from-guest"),
    /** An ICMPv6 error not sent because of RFC 4443's rate limit. */
    ICMP6_RATE_LIMITED("icmp6-rate-limited"),
    DHCP6_INVALID("dhcp6-invalid");

    private final String label;

    Drop(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
