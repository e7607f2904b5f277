package dev.slipway.networking.stack.ip;

import java.nio.ByteBuffer;

/**
 * How a transport sends towards a guest, whatever the flow's family: it writes its header (and
 * payload) at {@link #l4Offset} of {@link #buffer()}, and the IP layer of the flow's family adds
 * the IP header and the Ethernet header and hands the frame to the switch. All methods are called
 * with the lock held; the buffers are shared and only valid until the next call.
 */
public interface IpOutput {

    /** The frame buffer transports build into. */
    ByteBuffer buffer();

    /** Where the transport header goes in {@link #buffer()} for a flow of {@code family}. */
    int l4Offset(int family);

    /** The largest transport segment the guest's MTU lets one unfragmented packet of {@code family} carry. */
    int maxSegment(int family);

    /** The pseudo-header sum of a segment from the flow's destination side to its guest. */
    long pseudoHeader(FlowKey k, int protocol, int length);

    /**
     * Sends the {@code length}-byte segment at {@link #l4Offset} of {@link #buffer()} from the flow's
     * destination to its guest. {@code gsoSize > 0}: a TCP segment whose checksum holds only the
     * pseudo-header sum, for the guest's link to finish and cut. IPv4 fragments a segment above the
     * MTU unless {@code dontFragment}.
     */
    void send(FlowKey k, int protocol, int length, int gsoSize, boolean dontFragment);

    /**
     * As {@link #send}, with the segment's header ({@code headerLength} bytes at {@link #l4Offset})
     * in {@link #buffer()} and its {@code payloadLength} payload bytes in {@code payload} at
     * {@code payloadOffset}: sent from there when the guest's link gathers, else copied behind.
     */
    void send(FlowKey k, int protocol, int headerLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize);

    /** An ICMP error to the guest about the packet it sent in {@code frame} (described by {@code p}). */
    void unreachable(PacketContext p, ByteBuffer frame, Unreachable why);

    /**
     * An ICMP error to the guest about a packet of its flow {@code k} that is no longer at hand,
     * quoting the transport header's first eight bytes ({@code quoted}, big-endian).
     */
    void unreachable(FlowKey k, int protocol, long quoted, Unreachable why);
}
