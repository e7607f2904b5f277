package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;

/** What the IPv6 layer needs from the stack below it: put a frame on the guests' link, count a drop, a timer. */
public interface Ip6Output {

    /** Sends the frame from index 0 to {@code length}, its Ethernet header filled in (a group address reaches every guest). */
    void sendFrame(ByteBuffer frame, int length);

    void drop(Drop reason);

    /** The layer wants {@link Ip6Layer#timers} called no later than {@code nanos} (its clock), sooner than it said before. */
    void deadline(long nanos);
}
