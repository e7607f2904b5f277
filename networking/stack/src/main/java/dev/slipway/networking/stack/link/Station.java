package dev.slipway.networking.stack.link;

import java.nio.ByteBuffer;

/** The switch's own port: the gateway, which takes the frames addressed to it (and the broadcasts). */
public interface Station {

    /**
     * One frame for the gateway, at index 0 up to {@code length}; the buffer is reused after the
     * call. {@code checksumPending}: the guest left the TCP/UDP checksum for its link to finish.
     * {@code linkOffload}: the link the frame came from takes large segments (TSO) towards the guest.
     */
    void frame(ByteBuffer frame, int length, boolean checksumPending, boolean linkOffload);

    /** A link has no more frames ready right now: flush what was gathered. */
    void endOfBatch();
}
