package dev.slipway.networking.jmh;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.ip.Checksum;

/** Builds the guest's frames for the benchmarks, with correct checksums, into direct buffers. */
final class GuestFrames {
    static final int ETH = 14;
    static final int IP = ETH;
    static final int TCP = IP + 20;
    static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

    private GuestFrames() {}

    static void ethernet(ByteBuffer b, long dstMac, long srcMac, int etherType) {
        putMac(b, 0, dstMac);
        putMac(b, 6, srcMac);
        b.putShort(12, (short) etherType);
    }

    static void putMac(ByteBuffer b, int offset, long mac) {
        b.putShort(offset, (short) (mac >>> 32));
        b.putInt(offset + 2, (int) mac);
    }

    /** A 20-byte IPv4 header for {@code l4Length} bytes of payload. */
    static void ipv4(ByteBuffer b, int protocol, int src, int dst, int l4Length) {
        b.putInt(IP, 0x4500_0000 | (20 + l4Length));
        b.putInt(IP + 4, 0x4000);
        b.putInt(IP + 8, 64 << 24 | protocol << 16);
        b.putInt(IP + 12, src);
        b.putInt(IP + 16, dst);
        b.putShort(IP + 10, (short) Checksum.compute(b, IP, 20));
    }

    /** An ARP request from the guest for {@code target}; returns the frame length. */
    static int arpRequest(ByteBuffer b, long guestMac, int guestIp, int target) {
        b.clear();
        ethernet(b, 0xffff_ffff_ffffL, guestMac, 0x0806);
        b.putShort(ETH, (short) 1).putShort(ETH + 2, (short) 0x0800).put(ETH + 4, (byte) 6).put(ETH + 5, (byte) 4);
        b.putShort(ETH + 6, (short) 1);
        putMac(b, ETH + 8, guestMac);
        b.putInt(ETH + 14, guestIp);
        putMac(b, ETH + 18, 0);
        b.putInt(ETH + 24, target);
        return ETH + 28;
    }

    /** An ICMP echo request with {@code dataLength} bytes of data; returns the frame length. */
    static int icmpEcho(ByteBuffer b, long guestMac, long gatewayMac, int guestIp, int dst, int dataLength) {
        b.clear();
        ethernet(b, gatewayMac, guestMac, 0x0800);
        int icmp = IP + 20;
        b.putLong(icmp, 8L << 56 | 0x1234L << 16 | 1);
        for (int i = 0; i < dataLength; i++) {
            b.put(icmp + 8 + i, (byte) i);
        }
        b.putShort(icmp + 2, (short) Checksum.compute(b, icmp, 8 + dataLength));
        ipv4(b, 1, guestIp, dst, 8 + dataLength);
        return icmp + 8 + dataLength;
    }

    /**
     * A TCP segment with {@code options} and {@code payloadLength} bytes of payload (left as the
     * buffer holds them); returns the frame length.
     */
    static int tcp(ByteBuffer b, long guestMac, long gatewayMac, int src, int dst, int srcPort, int dstPort,
                   int seq, int ack, int flags, int window, byte[] options, int payloadLength) {
        b.limit(b.capacity()).position(0);
        ethernet(b, gatewayMac, guestMac, 0x0800);
        int hlen = 20 + options.length;
        b.putShort(TCP, (short) srcPort).putShort(TCP + 2, (short) dstPort).putInt(TCP + 4, seq).putInt(TCP + 8, ack);
        b.putInt(TCP + 12, (hlen / 4) << 28 | flags << 16 | window);
        b.putInt(TCP + 16, 0);
        b.put(TCP + 20, options);
        int segment = hlen + payloadLength;
        b.putShort(TCP + 16, (short) Checksum.fold(Checksum.sum(b, TCP, segment, Checksum.pseudoHeader(src, dst, 6, segment))));
        ipv4(b, 6, src, dst, segment);
        return TCP + segment;
    }

    /**
     * The checksum sum of the TCP segment in {@code b} without its sequence, acknowledgement and
     * checksum fields, for {@link #renumber}.
     */
    static long sumWithoutNumbers(ByteBuffer b, int frameLength) {
        int segment = frameLength - TCP;
        long sum = Checksum.sum(b, TCP, segment, Checksum.pseudoHeader(b.getInt(IP + 12), b.getInt(IP + 16), 6, segment));
        for (int field : new int[] {b.getInt(TCP + 4), b.getInt(TCP + 8)}) {
            sum -= (field >>> 16) + (field & 0xffff);
        }
        return sum - (b.getShort(TCP + 16) & 0xffff);
    }

    /** Sets the segment's sequence and acknowledgement numbers and patches its checksum, without re-reading the payload. */
    static void renumber(ByteBuffer b, int seq, int ack, long sumWithoutNumbers) {
        b.putInt(TCP + 4, seq);
        b.putInt(TCP + 8, ack);
        long sum = sumWithoutNumbers + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
        b.putShort(TCP + 16, (short) Checksum.fold(sum));
    }
}
