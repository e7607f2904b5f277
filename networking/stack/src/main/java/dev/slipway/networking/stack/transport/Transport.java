package dev.slipway.networking.stack.transport;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A link to one guest that carries Ethernet frames: a tap device, a QEMU stream socket or a
 * vpnkit-protocol socket. The stack runs {@link #run} on one thread per transport and calls
 * {@link #send} with its lock held.
 */
public interface Transport extends Closeable {

    /** A short name for logs and status, e.g. {@code tap slw0}. */
    String name();

    /**
     * Reads frames until the transport is closed or its peer goes away, handing each one to
     * {@code receiver}. Returns normally on close or end of stream.
     */
    void run(FrameReceiver receiver) throws IOException;

    /**
     * Sends one frame (position to limit). A frame the link cannot take is dropped and counted by
     * the caller; {@link LinkFullException} says the link's queue is full for now, so that the stack
     * sends it again later.
     */
    void send(ByteBuffer frame) throws IOException;

    /**
     * Whether the link takes TCP segments larger than the MTU, which the guest's side cuts into
     * {@code gsoSize}-byte segments itself (TSO through a virtio-net header).
     */
    default boolean segmentationOffload() {
        return false;
    }

    /**
     * Sends a frame; with {@code gsoSize > 0} it is an IPv4 TCP segment whose checksum field holds
     * only the pseudo-header sum, for the guest side to finish, and to cut into {@code gsoSize}-byte
     * segments when its payload is larger. Only called with {@code gsoSize > 0} when
     * {@link #segmentationOffload()} is true.
     */
    default void send(ByteBuffer frame, int gsoSize) throws IOException {
        send(frame);
    }

    /**
     * Whether the link can send a frame from two buffers, headers and payload, without joining them
     * first ({@link #send(ByteBuffer, ByteBuffer, int)}): the stack then sends host data to the guest
     * from where it already lies.
     */
    default boolean gathersFrames() {
        return false;
    }

    /**
     * Sends one frame made of {@code headers} (Ethernet, IPv4 and TCP) followed by {@code payload},
     * each from its position to its limit; {@code gsoSize} as for {@link #send(ByteBuffer, int)}.
     * Only called when {@link #gathersFrames()} is true.
     */
    default void send(ByteBuffer headers, ByteBuffer payload, int gsoSize) throws IOException {
        throw new UnsupportedOperationException(name() + " sends whole frames only");
    }

    /**
     * Stops {@link #run} but leaves the link open, for the next version of the stack: returns what
     * the next version needs to go on with it (JDK types only, see {@link LinkHandover}), or
     * {@code null} when this link cannot be handed over (it is then closed by {@link #close}).
     */
    default java.util.Map<String, Object> detach() {
        return null;
    }

    /** Stops {@link #run} and releases the link (nothing, after {@link #detach}). */
    @Override
    void close() throws IOException;
}
