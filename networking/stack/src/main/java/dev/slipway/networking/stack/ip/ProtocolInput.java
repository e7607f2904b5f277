package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;

/** A transport (TCP, UDP) as the IP layers see it: segments of either family come in with their context. */
public interface ProtocolInput {

    /** A segment from the guest at {@code p.l4Offset} of {@code frame}; called with the lock held. */
    void input(PacketContext p, ByteBuffer frame);

    /** A segment to a refused destination (cloud metadata): answer it as the protocol refuses. */
    void refuse(PacketContext p, ByteBuffer frame);
}
