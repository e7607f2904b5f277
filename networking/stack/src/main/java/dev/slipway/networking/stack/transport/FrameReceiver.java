package dev.slipway.networking.stack.transport;

import java.nio.ByteBuffer;

/** Where a transport delivers what it reads. */
public interface FrameReceiver {

    /**
     * One frame, at index 0 up to the buffer's limit. The buffer is the transport's and is reused
     * after the call; the receiver may change its contents.
     */
    void frame(ByteBuffer frame);

    /**
     * As {@link #frame}, for a frame whose TCP or UDP checksum the guest left unfinished because
     * the transport took over checksumming (virtio's NEEDS_CSUM): that checksum is not verified.
     */
    default void framePartialChecksum(ByteBuffer frame) {
        frame(frame);
    }

    /** The transport has no more frames ready right now: flush what was gathered. */
    void endOfBatch();
}
