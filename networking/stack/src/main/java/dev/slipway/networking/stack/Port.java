package dev.slipway.networking.stack;

import java.nio.ByteBuffer;

/** One side of the virtual switch: a guest attached through a transport. */
public interface Port {

    String name();

    /**
     * Sends one Ethernet frame (from the buffer's position to its limit) to the guest. Called with
     * the stack's lock held; must not keep the buffer.
     */
    void send(ByteBuffer frame);
}
