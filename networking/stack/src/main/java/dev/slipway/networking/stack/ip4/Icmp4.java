package dev.slipway.networking.stack.ip4;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.link.Ethernet;

/** ICMPv4: echo replies for the gateway's own addresses, echo requests to others handed to the {@link EchoRelay}, and the errors the gateway sends. */
final class Icmp4 {
    static final int ECHO_REPLY = 0, UNREACHABLE = 3, ECHO_REQUEST = 8, TIME_EXCEEDED = 11;
    static final int HOST_UNREACHABLE = 1, PROTOCOL_UNREACHABLE = 2, PORT_UNREACHABLE = 3, ADMIN_PROHIBITED = 13;
    private static final int IP_OFF = Ip4Layer.IP_OFF;

    private final Ip4Layer ip;
    private final Stats stats;
    /** Relays echo requests to any other address; null until the stack sets it. */
    EchoRelay relay;

    Icmp4(Ip4Layer ip, Stats stats) {
        this.ip = ip;
        this.stats = stats;
    }

    void input(PacketContext p, ByteBuffer f) {
        int off = p.l4Offset;
        int length = p.l4Length;
        if (length < 8) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (Checksum.compute(f, off, length) != 0) {
            stats.drop(Drop.BAD_ICMP_CHECKSUM);
            return;
        }
        int type = f.get(off) & 0xff;
        EchoRelay r = relay;
        if (!p.toUs() && type == ECHO_REQUEST && r != null
                && r.echo4(f, off, length, p.src4(), p.dst4(), f.get(p.ipOffset + 8) & 0xff, System.nanoTime())) {
            return;
        }
        if (!p.toUs() || type != ECHO_REQUEST) {
            stats.drop(Drop.ICMP_IGNORED);
            return;
        }
        // echo reply: a fresh 20-byte header, the same identifier, sequence and data
        ByteBuffer o = ip.out;
        o.clear();
        o.put(IP_OFF + 20, f, off, length);
        o.put(IP_OFF + 20, (byte) ECHO_REPLY);
        o.putShort(IP_OFF + 22, (short) 0);
        o.putShort(IP_OFF + 22, (short) Checksum.compute(o, IP_OFF + 20, length));
        ip.ipHeader(o, 20 + length, IpProtocols.ICMP, p.dst4(), p.src4(), false);
        ip.sendPacket(o, Ethernet.HLEN + 20 + length, 0);
        stats.icmpEchoReply();
    }

    /** Sends the relay's ICMP message (its checksum field zero) at {@code [0, length)} of {@code message} from {@code from} to {@code to}. */
    void relayed(int from, int to, ByteBuffer message, int length) {
        if (length > 65535 - 20) {
            stats.drop(Drop.OVERSIZED);
            return;
        }
        ByteBuffer o = ip.aux;
        o.clear();
        int icmp = IP_OFF + 20;
        o.put(icmp, message, 0, length);
        o.putShort(icmp + 2, (short) Checksum.compute(o, icmp, length));
        ip.ipHeader(o, 20 + length, IpProtocols.ICMP, from, to, false);
        ip.sendPacket(o, Ethernet.HLEN + 20 + length, 0);
    }

    /** Sends an ICMP error about the IP packet at {@link Ip4Layer#IP_OFF} of {@code f} back to its source. */
    void error(ByteBuffer f, int ihl, int totalLen, int type, int code, int from) {
        int quoted = Math.min(totalLen, ihl + 8);
        ByteBuffer o = ip.aux;
        o.clear();
        int icmp = IP_OFF + 20;
        o.putLong(icmp, 0);
        o.put(icmp, (byte) type);
        o.put(icmp + 1, (byte) code);
        o.put(icmp + 8, f, IP_OFF, quoted);
        o.putShort(icmp + 2, (short) Checksum.compute(o, icmp, 8 + quoted));
        ip.ipHeader(o, 20 + 8 + quoted, IpProtocols.ICMP, from, f.getInt(IP_OFF + 12), false);
        ip.sendPacket(o, Ethernet.HLEN + 28 + quoted, 0);
        stats.icmpError();
    }
}
