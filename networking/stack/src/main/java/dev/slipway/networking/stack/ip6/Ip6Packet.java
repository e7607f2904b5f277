package dev.slipway.networking.stack.ip6;

/**
 * One IPv6 packet as the layer parsed it: reused for every packet (the layer holds one and fills it
 * in), so reading a packet allocates nothing. Offsets are absolute within the frame.
 */
public final class Ip6Packet {
    public long srcHi;
    public long srcLo;
    public long dstHi;
    public long dstLo;
    /** The guest's MAC the frame came from. */
    public long srcMac;
    /** Where the IPv6 header starts (after the Ethernet header). */
    public int ipOffset;
    /** Where the packet ends: the IPv6 header's payload length says so, padding after it is ignored. */
    public int end;
    public int hopLimit;
    /** The upper-layer protocol the header chain ends in (6 TCP, 17 UDP, 58 ICMPv6, ...). */
    public int protocol;
    /** Where the upper-layer header starts. */
    public int l4Offset;
    /** Where the fragment header is, or -1 for an unfragmented packet. */
    public int fragmentHeader;
    /** For a parameter problem: the offending byte, counted from the start of the IPv6 header. */
    public int problemPointer;
    /** Whether the transport's checksum is left for us (a partial checksum from an offloading link). */
    public boolean checksumPending;

    public int l4Length() {
        return end - l4Offset;
    }

    public boolean fragmented() {
        return fragmentHeader >= 0;
    }

    void clear() {
        srcHi = srcLo = dstHi = dstLo = 0;
        srcMac = 0;
        ipOffset = end = hopLimit = protocol = l4Offset = problemPointer = 0;
        fragmentHeader = -1;
        checksumPending = false;
    }

    @Override
    public String toString() {
        return Ip6.toString(srcHi, srcLo) + " > " + Ip6.toString(dstHi, dstLo) + " proto " + protocol
                + " l4@" + l4Offset + " len " + l4Length();
    }
}
