package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The host side of one guest TCP connection: a host socket, the in-process DNS server, or a test's
 * fake. TCP moves the guest's bytes in with {@link #write} and the host's out with {@link #read};
 * the endpoint tells TCP through {@link Events} when it can go on. Every method and event runs
 * with the loop's lock held.
 */
public interface HostStream {

    /** What the endpoint tells the TCP connection above it. */
    interface Events {
        /** The host side's connection is up (after {@link HostStream#connecting()} was true). */
        void connected();

        /** The host side's connection failed: {@code refused} when the peer said so, else unreachable. */
        void connectFailed(boolean refused);

        /** Bytes (or the end of the stream) can be read; only while read interest is on. */
        void readable();

        /** Bytes can be written again; only while write interest is on. */
        void writable();
    }

    /** Whether the connection to the host is still being made. */
    boolean connecting();

    /** Takes bytes from {@code src} (position to limit) towards the host; returns how many it took. */
    int write(ByteBuffer src) throws IOException;

    /** Puts bytes from the host into {@code dst}; returns how many, 0 when none are ready, -1 at the end of the stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Whether {@link Events#readable()} is wanted. */
    void readInterest(boolean on);

    /** Whether {@link Events#writable()} is wanted. */
    void writeInterest(boolean on);

    /** The guest sent everything it will send: the host sees the end of the stream. */
    void shutdownOutput();

    /** An orderly close. */
    void close();

    /** Tears the host side down at once (a reset for a host socket's peer). */
    void abort();

    /**
     * Lets go of the host side for the next version of the stack: returns what that version goes on
     * with (JDK types only, read back by {@link HostConnector#adopt}), and touches nothing of it
     * afterwards. Returns {@code null} when this endpoint cannot be handed over; it is then
     * untouched and the caller resets the connection.
     */
    Object handOver();
}
