package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

/** The transports above the IPv6 layer: TCP segments and UDP datagrams the layer accepted, with their parsed context. */
public interface Ip6Upper {

    void tcp(ByteBuffer frame, Ip6Packet packet);

    void udp(ByteBuffer frame, Ip6Packet packet);
}
