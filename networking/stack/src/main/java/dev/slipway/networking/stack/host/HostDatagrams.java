package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.nio.ByteBuffer;

/** The host side of one guest UDP flow (a connected host socket, or a fake). Every method and event runs with the loop's lock held. */
public interface HostDatagrams {

    /** What the endpoint tells the UDP flow above it. */
    interface Events {
        /** Where the next datagram from the host goes: a buffer positioned and limited for its payload. */
        ByteBuffer receiveBuffer();

        /** A datagram of {@code length} bytes arrived in the {@link #receiveBuffer()}. */
        void received(int length);

        /** The host said the destination port is unreachable. */
        void portUnreachable();

        /** The endpoint failed and is closed. */
        void failed();
    }

    /** Sends the datagram from the buffer's position to its limit. */
    void send(ByteBuffer payload) throws IOException;

    void close();

    /**
     * Lets go of the host socket for the next version of the stack and stops touching it; returns
     * it (a JDK channel), or {@code null} when it cannot be handed over.
     */
    Object handOver();
}
