package dev.slipway.networking.stack.link;

import java.nio.ByteBuffer;

/** Sees every frame the switch carries (for packet capture). Called with the stack's lock held. */
@FunctionalInterface
public interface FrameTap {
    /** {@code frame} from its position to its limit; must not be kept or changed. */
    void frame(ByteBuffer frame, long nanoTime);
}
