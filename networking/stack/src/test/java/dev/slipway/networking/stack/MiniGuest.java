package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

import dev.slipway.networking.stack.link.Ethernet;
import dev.slipway.networking.stack.tcp.Tcp;

/** A scripted guest speaking raw frames: ARP, DHCP and one TCP connection through any frame pipe. */
public final class MiniGuest {
    /** Frames to and from the stack. */
    public interface Pipe {
        void send(ByteBuffer frame) throws Exception;

        ByteBuffer next(long millis) throws Exception;
    }

    private final Pipe pipe;
    private final long mac;
    public int address;

    public MiniGuest(Pipe pipe, long mac) {
        this.pipe = pipe;
        this.mac = mac;
    }

    /** A guest whose frames go through {@code link}, a stack's in-memory transport. */
    public static MiniGuest on(MemoryTransport link, long mac) {
        return new MiniGuest(new Pipe() {
            @Override
            public void send(ByteBuffer frame) {
                link.inject(frame);
            }

            @Override
            public ByteBuffer next(long millis) throws InterruptedException {
                return link.next(millis);
            }
        }, mac);
    }

    public ByteBuffer await(Predicate<ByteBuffer> match, long millis) throws Exception {
        long until = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < until) {
            ByteBuffer f = pipe.next(Math.max(1, until - System.currentTimeMillis()));
            if (f != null && match.test(f)) {
                return f;
            }
        }
        return null;
    }

    /** ARP for the gateway; returns the MAC in the reply. */
    public long arpGateway() throws Exception {
        pipe.send(Frames.arpRequest(mac, 0, Frames.GATEWAY));
        ByteBuffer r = await(f -> f.limit() >= 42 && f.getShort(12) == 0x0806 && f.getShort(20) == 2, 3000);
        assertNotNull(r, "no ARP reply");
        return Ethernet.getMac(r, 22);
    }

    /** DISCOVER, OFFER, REQUEST, ACK; returns the leased address. */
    public int dhcp() throws Exception {
        pipe.send(Frames.dhcp(mac, 1, 0x1234, 0));
        ByteBuffer offer = await(f -> Frames.dhcpType(f) == 2, 3000);
        assertNotNull(offer, "no DHCP offer");
        int offered = offer.getInt(14 + 20 + 8 + 16);
        pipe.send(Frames.dhcp(mac, 3, 0x1235, offered));
        ByteBuffer ack = await(f -> Frames.dhcpType(f) == 5, 3000);
        assertNotNull(ack, "no DHCP ack");
        address = ack.getInt(14 + 20 + 8 + 16);
        return address;
    }

    public static boolean isTcp(ByteBuffer f, int sport) {
        return f.limit() >= 54 && f.getShort(12) == 0x0800 && f.get(23) == 6 && (f.getShort(34) & 0xffff) == sport;
    }

    /** Opens a TCP connection to {@code dst:port}, sends {@code text}, expects it echoed, closes; returns the echo. */
    public String tcpEcho(int dst, int port, String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        return new String(tcpExchange(dst, port, data, data.length), StandardCharsets.US_ASCII);
    }

    /** Opens a TCP connection, sends {@code request}, reads {@code expect} bytes, closes both ways; returns what it read. */
    public byte[] tcpExchange(int dst, int port, byte[] request, int expect) throws Exception {
        int sport = 40000;
        int seq = 1000;
        byte[] mss = {2, 4, 0x05, (byte) 0xb4};
        send(dst, sport, port, seq, 0, Tcp.SYN, mss, new byte[0]);
        ByteBuffer synAck = await(f -> isTcp(f, port) && (f.get(47) & 0x12) == 0x12, 5000);
        assertNotNull(synAck, "no SYN-ACK");
        int theirs = synAck.getInt(38) + 1;
        seq++;
        byte[] data = request;
        send(dst, sport, port, seq, theirs, Tcp.ACK | Tcp.PSH, new byte[0], data);
        seq += data.length;
        java.io.ByteArrayOutputStream echoed = new java.io.ByteArrayOutputStream();
        while (echoed.size() < expect) {
            ByteBuffer f = await(x -> isTcp(x, port) && payloadLength(x) > 0, 5000);
            assertNotNull(f, "no echo; got so far: " + echoed);
            int n = payloadLength(f);
            int off = 34 + (f.get(46) >> 4 & 15) * 4;
            byte[] got = new byte[n];
            f.get(off, got);
            if (f.getInt(38) == theirs) {
                echoed.write(got);
                theirs += n;
            }
            send(dst, sport, port, seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
        }
        send(dst, sport, port, seq, theirs, Tcp.ACK | Tcp.FIN, new byte[0], new byte[0]);
        seq++;
        ByteBuffer fin = await(f -> isTcp(f, port) && (f.get(47) & Tcp.FIN) != 0, 5000);
        assertNotNull(fin, "no FIN from the stack");
        assertEquals(theirs, fin.getInt(38));
        send(dst, sport, port, seq, theirs + 1, Tcp.ACK, new byte[0], new byte[0]);
        return echoed.toByteArray();
    }

    public static int payloadLength(ByteBuffer f) {
        int total = f.getShort(16) & 0xffff;
        return total - 20 - (f.get(46) >> 4 & 15) * 4;
    }

    public void send(int dst, int sport, int dport, int seq, int ack, int flags, byte[] options, byte[] data) throws Exception {
        pipe.send(Frames.ip(Frames.GATEWAY_MAC, mac, 6, address, dst,
                Frames.tcp(address, dst, sport, dport, seq, ack, flags, 65535, options, data), 64, 7, 0x4000));
    }
}
