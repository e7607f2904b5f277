package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.nio.channels.SocketChannel;

import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.PacketContext.Destination;

/** Where TCP gets the host side of its connections: {@link HostEndpoints}, or an in-memory host in tests. */
public interface HostConnector {

    /**
     * The host side of a new guest TCP connection to {@code k}'s destination.
     *
     * @return null when the connection is refused by policy (the guest gets a reset)
     * @throws java.net.ConnectException when the host refused it (a reset too)
     * @throws IOException when the destination cannot be reached (ICMP unreachable)
     */
    HostStream openStream(FlowKey k, Destination destination, HostStream.Events events) throws IOException;

    /** The host side of a connection the stack opens to a guest for an accepted host connection. */
    HostStream accepted(SocketChannel channel, HostStream.Events events) throws IOException;

    /**
     * Goes on with the host side of flow {@code k} that a previous version of the stack handed over
     * ({@link HostStream#handOver()}).
     *
     * @throws IOException when {@code handedOver} cannot be taken (the connection is reset)
     */
    HostStream adopt(Object handedOver, FlowKey k, HostStream.Events events) throws IOException;
}
