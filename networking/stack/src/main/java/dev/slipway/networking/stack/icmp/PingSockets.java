package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.nio.channels.SelectableChannel;

/**
 * Where the relay's ping sockets come from: the host's unprivileged ICMP sockets
 * ({@link NativePingSockets}), or a fake in tests. One thread at a time.
 */
public interface PingSockets extends AutoCloseable {
    /**
     * Opens a ping socket of the family; {@link #ready} names it by {@code token}.
     *
     * @throws PingSocketsForbidden when the host does not let this process open ping sockets
     */
    PingChannel open(boolean v6, int token) throws IOException;

    /**
     * Goes on with a ping socket of this process a previous version of the stack let go of
     * ({@link PingChannel#letGo}); {@link #ready} names it by {@code token}.
     */
    PingChannel adopt(int descriptor, boolean v6, int token) throws IOException;

    /** A channel a selector watches: readable while a socket has a reply or an error; null when {@link #ready} is polled. */
    SelectableChannel readiness();

    /** The tokens of the sockets with something to receive, at most {@code tokens.length}; their count. */
    int ready(int[] tokens);

    @Override
    void close();
}
