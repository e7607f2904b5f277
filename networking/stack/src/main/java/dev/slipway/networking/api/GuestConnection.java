package dev.slipway.networking.api;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A guest TCP connection the stack handed to an {@link OutboundRouter} instead of connecting it to
 * a host socket: the guest's bytes are read from {@link #input()}, bytes written to
 * {@link #output()} go to the guest. No host socket and no listener stand between the two.
 *
 * <p>Threading: the streams block (reads until the guest sent bytes or closed its side, writes
 * while the guest's window is full), so they are used from the router's own threads, never from
 * the stack's event loop. Any thread may call {@link #shutdownOutput}, {@link #close} and
 * {@link #abort}; each is idempotent.
 *
 * <p>Ownership: from {@link OutboundRouter#intercept} on, the router owns the connection and ends
 * it with {@link #close} or {@link #abort}. When the guest resets the connection or the stack
 * stops, reads and writes fail with an {@link IOException}.
 */
@ProviderType
public interface GuestConnection extends Closeable {

    /** The guest's address as a big-endian IPv4 int. */
    int guestIp();

    int guestPort();

    /** The address the guest connected to, as a big-endian IPv4 int. */
    int destinationIp();

    int destinationPort();

    /** The guest's bytes; -1 once the guest closed its side and everything it sent was read. */
    InputStream input();

    /** Towards the guest; a write returns once the stack took all of its bytes. */
    OutputStream output();

    /**
     * How long a read on {@link #input()} waits for the guest before it throws
     * {@link java.net.SocketTimeoutException}; 0 waits without limit (the default).
     */
    void readTimeout(int millis);

    /** Everything for the guest was written: the guest reads the end of the stream (a FIN). */
    void shutdownOutput();

    /** Ends the connection in order: what was written still reaches the guest, then a FIN. */
    @Override
    void close();

    /** Ends the connection at once: the guest gets a reset. */
    void abort();
}
