package dev.slipway.networking.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives the guest's replies on a {@link GuestDatagramFlow}. */
@ConsumerType
@FunctionalInterface
public interface DatagramReceiver {

    /** One datagram's payload, from its position to its limit; valid only during the call. */
    void received(ByteBuffer payload);
}
