package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.ip.Checksum;

/** ICMPv6 message types and the checksum over RFC 8200's pseudo-header. */
public final class Icmp6 {
    public static final int DESTINATION_UNREACHABLE = 1;
    public static final int PACKET_TOO_BIG = 2;
    public static final int TIME_EXCEEDED = 3;
    public static final int PARAMETER_PROBLEM = 4;
    public static final int ECHO_REQUEST = 128;
    public static final int ECHO_REPLY = 129;
    public static final int ROUTER_SOLICITATION = 133;
    public static final int ROUTER_ADVERTISEMENT = 134;
    public static final int NEIGHBOR_SOLICITATION = 135;
    public static final int NEIGHBOR_ADVERTISEMENT = 136;
    public static final int REDIRECT = 137;

    /** Destination-unreachable codes (RFC 4443). */
    public static final int NO_ROUTE = 0;
    public static final int ADMINISTRATIVELY_PROHIBITED = 1;
    public static final int ADDRESS_UNREACHABLE = 3;
    public static final int PORT_UNREACHABLE = 4;

    private Icmp6() {}

    /** The unfolded sum of the pseudo-header: both addresses, the upper-layer length and next header. */
    public static long pseudoHeader(long srcHi, long srcLo, long dstHi, long dstLo, int length, int nextHeader) {
        return halves(srcHi) + halves(srcLo) + halves(dstHi) + halves(dstLo) + (length >>> 16) + (length & 0xffff) + nextHeader;
    }

    /** The pseudo-header sum of the IPv6 packet whose header is at {@code ipOffset}. */
    public static long pseudoHeader(ByteBuffer b, int ipOffset, int length, int nextHeader) {
        return Checksum.sum(b, ipOffset + 8, 32, 0) + (length >>> 16) + (length & 0xffff) + nextHeader;
    }

    /** Whether the upper-layer message at {@code off} checks out against the packet's pseudo-header. */
    public static boolean verify(ByteBuffer b, int ipOffset, int off, int length, int nextHeader) {
        return Checksum.fold(Checksum.sum(b, off, length, pseudoHeader(b, ipOffset, length, nextHeader))) == 0;
    }

    /** Computes the checksum of the upper-layer message at {@code off} into its field at {@code off + checksumAt}. */
    public static void fill(ByteBuffer b, int ipOffset, int off, int length, int nextHeader, int checksumAt) {
        b.putShort(off + checksumAt, (short) 0);
        int sum = Checksum.fold(Checksum.sum(b, off, length, pseudoHeader(b, ipOffset, length, nextHeader)));
        if (sum == 0 && nextHeader == HeaderChain.UDP) {
            sum = 0xffff;
        }
        b.putShort(off + checksumAt, (short) sum);
    }

    private static long halves(long v) {
        return (v >>> 32) + (v & 0xffff_ffffL);
    }
}
