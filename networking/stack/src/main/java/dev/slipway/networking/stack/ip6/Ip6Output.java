package dev.slipway.networking.stack.ip6;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.link.FrameOutput;

/** What the IPv6 layer needs from the stack below it: the switch's frame output, a drop counter, a timer. */
public interface Ip6Output extends FrameOutput {

    void drop(Drop reason);

    /** The layer wants {@link Ip6Layer#timers} called no later than {@code nanos} (its clock), sooner than it said before. */
    void deadline(long nanos);
}
