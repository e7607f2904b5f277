package dev.slipway.net.transport;

import java.nio.ByteBuffer;

/** Where a transport delivers what it reads. */
public interface FrameReceiver {

    /**
     * One frame, at index 0 up to the buffer's limit. The buffer is the transport's and is reused
     * after the call; the receiver may change its contents.
     */
    void frame(ByteBuffer frame);

    /** The transport has no more frames ready right now: flush what was gathered. */
    void endOfBatch();
}
