package dev.slipway.networking.stack.icmp;

import java.io.IOException;

/** The host forbids this process unprivileged ping sockets ({@code net.ipv4.ping_group_range}). */
public final class PingSocketsForbidden extends IOException {
    private static final long serialVersionUID = 1L;

    public PingSocketsForbidden(String message, Throwable cause) {
        super(message, cause);
    }
}
