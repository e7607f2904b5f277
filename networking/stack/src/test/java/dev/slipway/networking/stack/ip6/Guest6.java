package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.ProtocolInput;

/** A guest's view of the IPv6 layer in a unit test: builds frames, collects what the layer sends and drops, owns its clock. */
final class Guest6 implements Ip6Output {
    static final long GUEST_MAC = 0x02_00_00_00_00_07L;
    static final long GATEWAY_MAC = 0x5a_94_ef_e4_0c_ddL;
    static final Ip6Config CONFIG = Ip6Config.defaults();
    static final long PREFIX = CONFIG.prefix();
    static final long[] GATEWAY = {PREFIX, CONFIG.gateway()};
    static final long[] HOST_ALIAS = {PREFIX, CONFIG.hostAlias()};
    static final long[] GATEWAY_LL = {Ip6.LINK_LOCAL_PREFIX, Ip6.interfaceId(GATEWAY_MAC)};
    static final long[] GUEST = {PREFIX, Ip6.interfaceId(GUEST_MAC)};
    static final long[] GUEST_LL = {Ip6.LINK_LOCAL_PREFIX, Ip6.interfaceId(GUEST_MAC)};
    static final long[] ALL_NODES = {Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO};
    static final long[] ALL_ROUTERS = {Ip6.ALL_NODES_HI, Ip6.ALL_ROUTERS_LO};
    static final long[] UNSPECIFIED = {0, 0};
    static final long[] INTERNET = Ip6.parse("2001:db8::1");

    final List<ByteBuffer> sent = new ArrayList<>();
    final long[] drops = new long[Drop.values().length];
    long deadline = Long.MAX_VALUE;
    long now = 1_000_000_000_000L;
    final Ip6Layer layer;
    final List<String> upper = new ArrayList<>();

    Guest6() {
        this(1500);
    }

    Guest6(int mtu) {
        layer = new Ip6Layer(CONFIG, GATEWAY_MAC, mtu, dev.slipway.networking.api.CidrList.cloudMetadata(),
                List.of("slipway.internal"), ByteBuffer.allocateDirect(70_000), this, () -> now);
    }

    /** Lets TCP and UDP through to a recorder. */
    Guest6 withUpper() {
        layer.transports(recorder("tcp"), recorder("udp"));
        return this;
    }

    private ProtocolInput recorder(String name) {
        return new ProtocolInput() {
            @Override
            public void input(PacketContext p, ByteBuffer frame) {
                upper.add(name + " " + Ip6.toString(p.srcHi, p.srcLo) + " > " + Ip6.toString(p.dstHi, p.dstLo) + " "
                        + p.destination + " len " + p.l4Length);
            }

            @Override
            public void refuse(PacketContext p, ByteBuffer frame) {
                upper.add(name + " refused");
            }
        };
    }

    @Override
    public boolean send(ByteBuffer frame, int length, int gsoSize) {
        ByteBuffer copy = ByteBuffer.allocate(length);
        copy.put(0, frame, 0, length);
        sent.add(copy);
        return true;
    }

    @Override
    public boolean gathers(long dstMac) {
        return false;
    }

    @Override
    public boolean send(ByteBuffer headers, int headersLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        ByteBuffer copy = ByteBuffer.allocate(headersLength + payloadLength);
        copy.put(0, headers, 0, headersLength);
        copy.put(headersLength, payload, payloadOffset, payloadLength);
        sent.add(copy);
        return true;
    }

    @Override
    public void drop(Drop reason) {
        drops[reason.ordinal()]++;
    }

    @Override
    public void deadline(long nanos) {
        deadline = nanos;
    }

    long drops(Drop d) {
        return drops[d.ordinal()];
    }

    long totalDrops() {
        long s = 0;
        for (long d : drops) {
            s += d;
        }
        return s;
    }

    void receive(ByteBuffer frame) {
        layer.input(frame, frame.limit(), false, false);
    }

    ByteBuffer last() {
        return sent.get(sent.size() - 1);
    }

    // ------------------------------------------------------------------ frame building

    static ByteBuffer packet(long dstMac, long[] src, long[] dst, int hopLimit, int nextHeader, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(54 + payload.length);
        b.putShort(0, (short) (dstMac >>> 32)).putInt(2, (int) dstMac);
        b.putShort(6, (short) (GUEST_MAC >>> 32)).putInt(8, (int) GUEST_MAC);
        b.putShort(12, (short) 0x86dd);
        b.putInt(14, 0x6000_0000).putShort(18, (short) payload.length).put(20, (byte) nextHeader).put(21, (byte) hopLimit);
        b.putLong(22, src[0]).putLong(30, src[1]).putLong(38, dst[0]).putLong(46, dst[1]);
        b.put(54, payload);
        return b;
    }

    static long macFor(long[] dst) {
        return Ip6.isMulticast(dst[0]) ? Ip6.multicastMac(dst[1]) : GATEWAY_MAC;
    }

    /** An ICMPv6 message (type, code, then the body) with its checksum. */
    static byte[] icmp(long[] src, long[] dst, int type, int code, byte[] body) {
        byte[] m = new byte[4 + body.length];
        m[0] = (byte) type;
        m[1] = (byte) code;
        System.arraycopy(body, 0, m, 4, body.length);
        int sum = checksum(src, dst, 58, m);
        m[2] = (byte) (sum >> 8);
        m[3] = (byte) sum;
        return m;
    }

    static ByteBuffer icmpFrame(long[] src, long[] dst, int hopLimit, int type, int code, byte[] body) {
        return packet(macFor(dst), src, dst, hopLimit, 58, icmp(src, dst, type, code, body));
    }

    static byte[] udp(long[] src, long[] dst, int sport, int dport, byte[] data) {
        byte[] u = new byte[8 + data.length];
        ByteBuffer.wrap(u).putShort((short) sport).putShort((short) dport).putShort((short) u.length).putShort((short) 0).put(data);
        int sum = checksum(src, dst, 17, u);
        if (sum == 0) {
            sum = 0xffff;
        }
        u[6] = (byte) (sum >> 8);
        u[7] = (byte) sum;
        return u;
    }

    /** The Internet checksum over the IPv6 pseudo-header and {@code m}, byte by byte (independent of the code under test). */
    static int checksum(long[] src, long[] dst, int nextHeader, byte[] m) {
        ByteBuffer p = ByteBuffer.allocate(40 + m.length + 1);
        p.putLong(src[0]).putLong(src[1]).putLong(dst[0]).putLong(dst[1]).putInt(m.length).putInt(nextHeader).put(m);
        long sum = 0;
        for (int i = 0; i + 1 < 40 + m.length + 1; i += 2) {
            sum += (p.get(i) & 0xff) << 8 | p.get(i + 1) & 0xff;
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) ~sum & 0xffff;
    }

    /** Whether the ICMPv6/UDP checksum of a frame the layer sent checks out. */
    static boolean checksumOk(ByteBuffer frame) {
        long[] src = {frame.getLong(22), frame.getLong(30)};
        long[] dst = {frame.getLong(38), frame.getLong(46)};
        int nh = frame.get(20) & 0xff;
        byte[] m = new byte[frame.getShort(18) & 0xffff];
        frame.get(54, m);
        return checksum(src, dst, nh, m) == 0;
    }

    /** A neighbour solicitation for {@code target}, with a source link-address option unless the source is unspecified. */
    static ByteBuffer solicitation(long[] src, long[] target, int hopLimit) {
        boolean dad = src[0] == 0 && src[1] == 0;
        ByteBuffer body = ByteBuffer.allocate(dad ? 20 : 28);
        body.putInt(0).putLong(target[0]).putLong(target[1]);
        if (!dad) {
            body.put((byte) 1).put((byte) 1).putShort((short) (GUEST_MAC >>> 32)).putInt((int) GUEST_MAC);
        }
        long[] dst = {Ip6.ALL_NODES_HI, Ip6.solicitedNodeLo(target[1])};
        return icmpFrame(src, dst, hopLimit, 135, 0, body.array());
    }

    static ByteBuffer advertisement(long[] src, long[] dst, long[] target, long mac, int flags) {
        ByteBuffer body = ByteBuffer.allocate(28);
        body.putInt(flags).putLong(target[0]).putLong(target[1]);
        body.put((byte) 2).put((byte) 1).putShort((short) (mac >>> 32)).putInt((int) mac);
        return icmpFrame(src, dst, 255, 136, 0, body.array());
    }

    static ByteBuffer routerSolicitation(long[] src) {
        ByteBuffer body = ByteBuffer.allocate(src[0] == 0 && src[1] == 0 ? 4 : 12);
        body.putInt(0);
        if (body.capacity() > 4) {
            body.put((byte) 1).put((byte) 1).putShort((short) (GUEST_MAC >>> 32)).putInt((int) GUEST_MAC);
        }
        return icmpFrame(src, ALL_ROUTERS, 255, 133, 0, body.array());
    }

    static ByteBuffer echo(long[] src, long[] dst, int id, int seq, byte[] data) {
        ByteBuffer body = ByteBuffer.allocate(4 + data.length);
        body.putShort((short) id).putShort((short) seq).put(data);
        return icmpFrame(src, dst, 64, 128, 0, body.array());
    }
}
