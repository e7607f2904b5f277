package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One ping socket. Addresses are two longs: IPv4 in the low 32 bits of {@code lo}, IPv6 as its high
 * and low halves. The kernel puts its own identifier into what is sent and delivers only replies
 * carrying it. Non-blocking; allocates nothing.
 */
public interface PingChannel {
    /** The TTL (IPv6: hop limit) of what is sent from now on. */
    void ttl(int ttl) throws IOException;

    /** Sends the echo request at {@code [0, length)} of {@code message}; the bytes sent or minus the errno. */
    int send(ByteBuffer message, int length, long destinationHi, long destinationLo);

    /**
     * Receives a reply or a queued error into {@code [0, capacity)} of {@code into}, described in
     * {@code receipt}; the length, or minus the errno ({@link PingReceipt#EAGAIN} when there is nothing).
     */
    int receive(ByteBuffer into, int capacity, PingReceipt receipt);

    void close();

    /**
     * Stops watching the socket and gives up its descriptor without closing it, for the next
     * version of the stack ({@link PingSockets#adopt}); -1 when there is none to give.
     */
    int letGo();
}
