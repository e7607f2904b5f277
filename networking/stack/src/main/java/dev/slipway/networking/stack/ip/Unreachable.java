package dev.slipway.networking.stack.ip;

/** Why a packet could not be delivered; each family maps these to its own ICMP type and code. */
public enum Unreachable {
    /** The host could not reach the destination (no route, connect failed or timed out). */
    HOST,
    /** Nothing listens on the destination port. */
    PORT,
    /** The gateway does not speak the packet's protocol. */
    PROTOCOL,
    /** Refused by policy (cloud metadata and the like). */
    ADMIN_PROHIBITED
}
