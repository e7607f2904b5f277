package dev.slipway.networking.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A UDP flow from a gateway port to one guest port. A live update of the stack hands the flow on:
 * the same object keeps sending to the guest through the next version, from the same gateway port.
 */
@ProviderType
public interface GuestDatagramFlow extends AutoCloseable {

    /** Sends the buffer's remaining bytes as one datagram to the guest; the buffer is not kept. */
    void send(ByteBuffer payload);

    /**
     * Whether the flow still carries datagrams: false once closed, or once its stack stopped
     * without handing it on to a next version (its owner then opens a new flow).
     *
     * @since 2.2
     */
    default boolean isOpen() {
        return true;
    }

    /** Forgets the flow: later replies from the guest are no longer delivered. */
    @Override
    void close();
}
