package dev.slipway.networking.stack.link;

import java.nio.ByteBuffer;

/** Ethernet framing: header layout, the EtherTypes the gateway speaks, MAC addresses in buffers. */
public final class Ethernet {
    public static final int HLEN = 14;
    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_IPV6 = 0x86dd;
    /** The largest frame: an Ethernet header and a 64 KiB IP packet (offloaded segments included). */
    public static final int MAX_FRAME = HLEN + 65535;

    private Ethernet() {}

    public static long getMac(ByteBuffer b, int off) {
        return (b.getShort(off) & 0xffffL) << 32 | b.getInt(off + 2) & 0xffff_ffffL;
    }

    public static void putMac(ByteBuffer b, int off, long mac) {
        b.putShort(off, (short) (mac >>> 32));
        b.putInt(off + 2, (int) mac);
    }

    /** Writes the Ethernet header: destination, source and type. */
    public static void header(ByteBuffer b, long dst, long src, int type) {
        putMac(b, 0, dst);
        putMac(b, 6, src);
        b.putShort(12, (short) type);
    }
}
