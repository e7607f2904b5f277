package dev.slipway.networking.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/** A UDP flow from a gateway port to one guest port. */
@ProviderType
public interface GuestDatagramFlow extends AutoCloseable {

    /** Sends the buffer's remaining bytes as one datagram to the guest; the buffer is not kept. */
    void send(ByteBuffer payload);

    /** Forgets the flow: later replies from the guest are no longer delivered. */
    @Override
    void close();
}
