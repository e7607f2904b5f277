package dev.slipway.networking.stack;

import dev.slipway.networking.stack.ip.Checksum;

import dev.slipway.networking.stack.link.Ethernet;
import java.nio.ByteBuffer;

/** Builds guest frames for tests, with correct checksums unless asked otherwise. */
public final class Frames {
    public static final long GUEST_MAC = 0x02_00_00_00_00_07L;
    public static final long GATEWAY_MAC = NetConfig.defaults().gatewayMac();
    public static final int GATEWAY = Ip4.parse("192.168.65.1");
    public static final int HOST_ALIAS = Ip4.parse("192.168.65.254");
    public static final int GUEST = Ip4.parse("192.168.65.3");

    private Frames() {}

    public static ByteBuffer eth(long dst, long src, int type, int payload) {
        ByteBuffer b = ByteBuffer.allocateDirect(14 + payload);
        Ethernet.putMac(b, 0, dst);
        Ethernet.putMac(b, 6, src);
        b.putShort(12, (short) type);
        return b;
    }

    public static ByteBuffer arpRequest(long mac, int spa, int tpa) {
        ByteBuffer b = eth(Mac.BROADCAST, mac, 0x0806, 28);
        b.putShort(14, (short) 1).putShort(16, (short) 0x0800).put(18, (byte) 6).put(19, (byte) 4).putShort(20, (short) 1);
        Ethernet.putMac(b, 22, mac);
        b.putInt(28, spa);
        Ethernet.putMac(b, 32, 0);
        b.putInt(38, tpa);
        return b;
    }

    /** An IPv4 frame with a 20-byte header and the given payload (already including its L4 header). */
    public static ByteBuffer ip(long dstMac, long srcMac, int protocol, int src, int dst, byte[] l4, int ttl, int id, int fragField) {
        ByteBuffer b = eth(dstMac, srcMac, 0x0800, 20 + l4.length);
        b.putInt(14, 0x4500_0000 | (20 + l4.length));
        b.putInt(18, id << 16 | fragField);
        b.putInt(22, ttl << 24 | protocol << 16);
        b.putInt(26, src);
        b.putInt(30, dst);
        b.putShort(24, (short) Checksum.compute(b, 14, 20));
        b.put(34, l4);
        return b;
    }

    public static byte[] udp(int src, int dst, int sport, int dport, byte[] data) {
        ByteBuffer u = ByteBuffer.allocateDirect(8 + data.length);
        u.putShort(0, (short) sport).putShort(2, (short) dport).putShort(4, (short) (8 + data.length)).putShort(6, (short) 0);
        u.put(8, data);
        int sum = Checksum.fold(Checksum.sum(u, 0, 8 + data.length, Checksum.pseudoHeader(src, dst, 17, 8 + data.length)));
        u.putShort(6, (short) (sum == 0 ? 0xffff : sum));
        byte[] r = new byte[8 + data.length];
        u.get(0, r);
        return r;
    }

    public static byte[] tcp(int src, int dst, int sport, int dport, int seq, int ack, int flags, int window, byte[] options, byte[] data) {
        int hlen = 20 + options.length;
        ByteBuffer t = ByteBuffer.allocateDirect(hlen + data.length);
        t.putShort(0, (short) sport).putShort(2, (short) dport).putInt(4, seq).putInt(8, ack);
        t.putInt(12, (hlen / 4) << 28 | flags << 16 | window);
        t.putInt(16, 0);
        t.put(20, options);
        t.put(hlen, data);
        t.putShort(16, (short) Checksum.fold(Checksum.sum(t, 0, hlen + data.length, Checksum.pseudoHeader(src, dst, 6, hlen + data.length))));
        byte[] r = new byte[hlen + data.length];
        t.get(0, r);
        return r;
    }

    public static byte[] icmpEcho(int id, int seq, byte[] data) {
        ByteBuffer i = ByteBuffer.allocateDirect(8 + data.length);
        i.put(0, (byte) 8).put(1, (byte) 0).putShort(2, (short) 0).putShort(4, (short) id).putShort(6, (short) seq);
        i.put(8, data);
        i.putShort(2, (short) Checksum.compute(i, 0, 8 + data.length));
        byte[] r = new byte[8 + data.length];
        i.get(0, r);
        return r;
    }

    /** A DHCP DISCOVER (type 1) or REQUEST (type 3) from {@code mac}. */
    public static ByteBuffer dhcp(long mac, int type, int xid, int requested) {
        ByteBuffer d = ByteBuffer.allocate(300);
        d.put(0, (byte) 1).put(1, (byte) 1).put(2, (byte) 6).putInt(4, xid).putShort(10, (short) 0x8000);
        Ethernet.putMac(d, 28, mac);
        d.putInt(236, 0x63825363);
        int p = 240;
        d.put(p++, (byte) 53).put(p++, (byte) 1).put(p++, (byte) type);
        if (requested != 0) {
            d.put(p++, (byte) 50).put(p++, (byte) 4).putInt(p, requested);
            p += 4;
            d.put(p++, (byte) 54).put(p++, (byte) 4).putInt(p, GATEWAY);
            p += 4;
        }
        d.put(p, (byte) 255);
        byte[] payload = new byte[300];
        d.get(0, payload);
        return ip(Mac.BROADCAST, mac, 17, 0, -1, udp(0, -1, 68, 67, payload), 64, 1, 0);
    }

    public static byte[] bytes(ByteBuffer b) {
        byte[] r = new byte[b.limit()];
        b.get(0, r);
        return r;
    }

    /** The DHCP options' message type in a reply frame, or -1. */
    public static int dhcpType(ByteBuffer f) {
        int off = 14 + 20 + 8;
        if (f.limit() < off + 241 || f.getShort(14 + 20 + 2) != 68) {
            return -1;
        }
        for (int i = off + 240; i < f.limit() - 2; ) {
            int code = f.get(i) & 0xff;
            if (code == 255) {
                return -1;
            }
            if (code == 0) {
                i++;
                continue;
            }
            if (code == 53) {
                return f.get(i + 2) & 0xff;
            }
            i += 2 + (f.get(i + 1) & 0xff);
        }
        return -1;
    }
}
