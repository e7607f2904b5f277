package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;

/** A service the gateway itself answers over UDP (DHCP): offered every datagram to the gateway or broadcast first. */
public interface DatagramService {

    /**
     * The UDP payload at {@code offset} of {@code frame}, {@code length} bytes, sent to
     * {@code dstPort}; true when the service took it.
     */
    boolean datagram(PacketContext p, int dstPort, ByteBuffer frame, int offset, int length);
}
