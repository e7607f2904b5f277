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
    TRANSPORT_ERROR("transport-error");

    private final String label;

    Drop(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
