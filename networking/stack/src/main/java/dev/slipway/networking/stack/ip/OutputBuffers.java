package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.link.Ethernet;

/**
 * The frames the gateway builds into, shared by every layer and only used with the lock held, so
 * the steady state allocates nothing: {@link #out} for what a transport or IP layer sends,
 * {@link #aux} for what is derived from it (fragments, ICMP errors quoting it).
 */
public final class OutputBuffers {
    public final ByteBuffer out = ByteBuffer.allocateDirect(Ethernet.MAX_FRAME + 64);
    public final ByteBuffer aux = ByteBuffer.allocateDirect(Ethernet.MAX_FRAME + 64);
}
