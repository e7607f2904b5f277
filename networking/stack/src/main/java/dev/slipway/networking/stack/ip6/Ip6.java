package dev.slipway.networking.stack.ip6;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * IPv6 addresses as two longs, the high and the low 64 bits (network byte order, the first octet
 * in the high byte of {@code hi}), so that packet code compares and stores them without allocating.
 */
public final class Ip6 {
    public static final long LINK_LOCAL_PREFIX = 0xfe80_0000_0000_0000L;
    public static final long ALL_NODES_HI = 0xff02_0000_0000_0000L;
    public static final long ALL_NODES_LO = 1L;
    public static final long ALL_ROUTERS_LO = 2L;
    /** ff02::1:2, All_DHCP_Relay_Agents_and_Servers. */
    public static final long DHCP_SERVERS_LO = 0x0000_0000_0001_0002L;
    private static final long SOLICITED_NODE_LO = 0x0000_0001_ff00_0000L;

    private Ip6() {}

    /** Parses an IPv6 literal (never a name) into {hi, lo}. */
    public static long[] parse(String text) {
        String t = text.trim();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        if (t.indexOf(':') < 0 || !t.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an IPv6 address: " + text);
        }
        try {
            InetAddress a = InetAddress.getByName(t);
            if (!(a instanceof Inet6Address)) {
                throw new IllegalArgumentException("not an IPv6 address (an IPv4-mapped one): " + text);
            }
            byte[] b = a.getAddress();
            return new long[] {ByteBuffer.wrap(b).getLong(0), ByteBuffer.wrap(b).getLong(8)};
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv6 address: " + text);
        }
    }

    public static InetAddress toInet(long hi, long lo) {
        byte[] b = new byte[16];
        ByteBuffer.wrap(b).putLong(hi).putLong(lo);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public static long hi(InetAddress a) {
        return ByteBuffer.wrap(a.getAddress()).getLong(0);
    }

    public static long lo(InetAddress a) {
        return ByteBuffer.wrap(a.getAddress()).getLong(8);
    }

    /** The compressed text form (RFC 5952). */
    public static String toString(long hi, long lo) {
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) (hi >>> (48 - 16 * i)) & 0xffff;
            g[4 + i] = (int) (lo >>> (48 - 16 * i)) & 0xffff;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }

    public static boolean isMulticast(long hi) {
        return (hi >>> 56) == 0xff;
    }

    public static boolean isLinkLocal(long hi) {
        return (hi & 0xffc0_0000_0000_0000L) == LINK_LOCAL_PREFIX;
    }

    public static boolean isUnspecified(long hi, long lo) {
        return hi == 0 && lo == 0;
    }

    public static boolean isLoopback(long hi, long lo) {
        return hi == 0 && lo == 1;
    }

    /** The solicited-node multicast group of an address: ff02::1:ffXX:XXXX. */
    public static long solicitedNodeLo(long lo) {
        return SOLICITED_NODE_LO | (lo & 0xff_ffffL);
    }

    public static boolean isSolicitedNode(long hi, long lo) {
        return hi == ALL_NODES_HI && (lo & 0xffff_ffff_ff00_0000L) == SOLICITED_NODE_LO;
    }

    /** The Ethernet group address of an IPv6 multicast address: 33:33 and its last 32 bits. */
    public static long multicastMac(long lo) {
        return 0x3333_0000_0000L | (lo & 0xffff_ffffL);
    }

    /** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A). */
    public static long interfaceId(long mac) {
        long upper = (mac >>> 24 & 0xff_ffffL) ^ 0x02_0000L;
        return upper << 40 | 0xff_feL << 24 | (mac & 0xff_ffffL);
    }

    public static long getHi(ByteBuffer b, int off) {
        return b.getLong(off);
    }

    public static long getLo(ByteBuffer b, int off) {
        return b.getLong(off + 8);
    }

    public static void put(ByteBuffer b, int off, long hi, long lo) {
        b.putLong(off, hi);
        b.putLong(off + 8, lo);
    }
}
