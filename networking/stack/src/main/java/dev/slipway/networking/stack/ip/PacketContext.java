package dev.slipway.networking.stack.ip;

/**
 * What the IP layer learned of a packet from the guest, handed to the transport with the frame:
 * the family, the addresses (IPv4 in the low 32 bits of the low halves), where the transport's
 * header lies, and how the link delivered it. One instance per IP layer, reused for every packet
 * (only valid during the call it is passed to), so the frame path allocates nothing.
 */
public final class PacketContext {
    /** Where the packet is going, as the gateway sees it. */
    public enum Destination { GATEWAY, HOST_ALIAS, BROADCAST, REMOTE }

    public int family;
    public long srcHi, srcLo, dstHi, dstLo;
    public Destination destination;
    public int protocol;
    /** The IP header's offset in the frame (after the Ethernet header). */
    public int ipOffset;
    /** The transport header's offset in the frame, and the transport segment's length. */
    public int l4Offset, l4Length;
    /** The guest left the TCP/UDP checksum for its link to finish (virtio NEEDS_CSUM): not verified. */
    public boolean checksumPending;
    /** The guest's link takes large TCP segments for it to cut (TSO). */
    public boolean linkOffload;

    public int src4() {
        return (int) srcLo;
    }

    public int dst4() {
        return (int) dstLo;
    }

    /** The TCP/UDP pseudo-header sum of this packet for a segment of {@code length} bytes. */
    public long pseudoHeader(int length) {
        return family == 4 ? Checksum.pseudoHeader(src4(), dst4(), protocol, length)
                : Checksum.pseudoHeader6(srcHi, srcLo, dstHi, dstLo, protocol, length);
    }

    /** Whether the destination is one of the gateway's own addresses (gateway or host alias). */
    public boolean toUs() {
        return destination == Destination.GATEWAY || destination == Destination.HOST_ALIAS;
    }
}
