package dev.slipway.networking.stack.link;

import java.nio.ByteBuffer;

/** The one way protocol code sends to the guests: whole frames, their Ethernet header filled in. */
public interface FrameOutput {

    /**
     * Sends the frame at index 0 up to {@code length} to the guest owning its destination MAC (all
     * guests for a group address or an unknown one). {@code gsoSize > 0}: an offloaded TCP segment
     * for the guest's link to finish (see {@code Transport#send(ByteBuffer, int)}).
     */
    void send(ByteBuffer frame, int length, int gsoSize);

    /**
     * Whether a frame for {@code dstMac} can go out as headers and payload from two buffers
     * ({@link #send(ByteBuffer, int, ByteBuffer, int, int, int)}).
     */
    boolean gathers(long dstMac);

    /** Sends the headers at index 0 up to {@code headersLength} followed by {@code payloadLength} bytes of {@code payload} from {@code payloadOffset}. */
    void send(ByteBuffer headers, int headersLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize);
}
