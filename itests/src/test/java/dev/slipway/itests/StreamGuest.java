package dev.slipway.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A guest on the stack's QEMU stream socket (each frame after a 4-byte length): just enough IPv4 to
 * lease an address and keep one TCP connection and one UDP flow to the host alias open across updates.
 */
final class StreamGuest implements AutoCloseable {
    static final int HOST_ALIAS = 0xc0a841fe; // 192.168.65.254: the host's loopback
    private static final int GATEWAY = 0xc0a84101; // 192.168.65.1
    private static final long MAC = 0x02_00_00_00_00_42L;

    private final SocketChannel channel;
    private final LinkedBlockingQueue<ByteBuffer> frames = new LinkedBlockingQueue<>();
    private long gatewayMac;
    int address;

    StreamGuest(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        Thread reader = new Thread(this::read, "stream-guest");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        ByteBuffer header = ByteBuffer.allocate(4);
        try {
            while (true) {
                header.clear();
                while (header.hasRemaining()) {
                    if (channel.read(header) < 0) {
                        return;
                    }
                }
                ByteBuffer frame = ByteBuffer.allocate(header.getInt(0));
                while (frame.hasRemaining()) {
                    if (channel.read(frame) < 0) {
                        return;
                    }
                }
                frames.add(frame.flip());
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private synchronized void send(ByteBuffer frame) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(4).putInt(0, frame.remaining());
        ByteBuffer[] both = {header, frame};
        while (frame.hasRemaining()) {
            channel.write(both);
        }
    }

    private ByteBuffer await(Predicate<ByteBuffer> match, long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        for (long left; (left = until - System.nanoTime()) > 0; ) {
            ByteBuffer f = frames.poll(left, TimeUnit.NANOSECONDS);
            if (f != null && match.test(f)) {
                return f;
            }
        }
        throw new AssertionError("no frame within " + millis + " ms");
    }

    /** DISCOVER, OFFER, REQUEST, ACK: the leased address, and the gateway's MAC from its answer. */
    int dhcp() throws Exception {
        send(ip(-1L & 0xffff_ffff_ffffL, 17, 0, -1, udp(0, -1, 68, 67, dhcpMessage(1, 0))));
        ByteBuffer offer = await(f -> dhcpType(f) == 2, 5000);
        int offered = offer.getInt(14 + 20 + 8 + 16);
        gatewayMac = mac(offer, 6);
        send(ip(-1L & 0xffff_ffff_ffffL, 17, 0, -1, udp(0, -1, 68, 67, dhcpMessage(3, offered))));
        await(f -> dhcpType(f) == 5, 5000);
        address = offered;
        return address;
    }

    /** One TCP connection from this guest. */
    final class Connection {
        final int sport;
        final int dport;
        int seq = 1000;
        int theirs;

        Connection(int sport, int dport) throws Exception {
            this.sport = sport;
            this.dport = dport;
            segment(0x02, new byte[] {2, 4, 0x05, (byte) 0xb4}, new byte[0]);
            ByteBuffer synAck = await(f -> isTcp(f) && (f.get(47) & 0x12) == 0x12, 5000);
            theirs = synAck.getInt(38) + 1;
            seq++;
            segment(0x10, new byte[0], new byte[0]);
        }

        private boolean isTcp(ByteBuffer f) {
            return f.limit() >= 54 && f.getShort(12) == 0x0800 && f.get(23) == 6 && (f.getShort(34) & 0xffff) == dport
                    && (f.getShort(36) & 0xffff) == sport;
        }

        private void segment(int flags, byte[] options, byte[] data) throws IOException {
            send(ip(gatewayMac, 6, address, HOST_ALIAS, tcp(address, HOST_ALIAS, sport, dport, seq, theirs, flags, options, data)));
        }

        /** Sends {@code text} and reads the host's echo of it: bytes both ways on this connection. */
        String echo(String text) throws Exception {
            byte[] data = text.getBytes(StandardCharsets.US_ASCII);
            segment(0x18, new byte[0], data);
            seq += data.length;
            ByteArrayOutputStream echoed = new ByteArrayOutputStream();
            while (echoed.size() < data.length) {
                ByteBuffer f = await(x -> isTcp(x) && payloadLength(x) > 0, 5000);
                int n = payloadLength(f);
                if (f.getInt(38) == theirs) {
                    byte[] got = new byte[n];
                    f.get(34 + (f.get(46) >> 4 & 15) * 4, got);
                    echoed.write(got);
                    theirs += n;
                }
                segment(0x10, new byte[0], new byte[0]);
            }
            return echoed.toString(StandardCharsets.US_ASCII);
        }
    }

    /** Sends {@code text} to the host alias's UDP {@code dport} from {@code sport} and returns the reply. */
    String udpExchange(int sport, int dport, String text) throws Exception {
        send(ip(gatewayMac, 17, address, HOST_ALIAS, udp(address, HOST_ALIAS, sport, dport, text.getBytes(StandardCharsets.US_ASCII))));
        ByteBuffer reply = await(f -> f.limit() > 42 && f.getShort(12) == 0x0800 && f.get(23) == 17
                && (f.getShort(34) & 0xffff) == dport && (f.getShort(36) & 0xffff) == sport, 5000);
        byte[] b = new byte[(reply.getShort(38) & 0xffff) - 8];
        reply.get(42, b);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static int payloadLength(ByteBuffer f) {
        return (f.getShort(16) & 0xffff) - 20 - (f.get(46) >> 4 & 15) * 4;
    }

    private static int dhcpType(ByteBuffer f) {
        if (f.limit() < 14 + 20 + 8 + 240 || f.getShort(12) != 0x0800 || f.get(23) != 17 || (f.getShort(36) & 0xffff) != 68) {
            return -1;
        }
        for (int p = 14 + 20 + 8 + 240; p + 2 < f.limit() && f.get(p) != (byte) 255; p += 2 + (f.get(p + 1) & 0xff)) {
            if (f.get(p) == 53) {
                return f.get(p + 2);
            }
        }
        return -1;
    }

    private static byte[] dhcpMessage(int type, int requested) {
        ByteBuffer d = ByteBuffer.allocate(300);
        d.put(0, (byte) 1).put(1, (byte) 1).put(2, (byte) 6).putInt(4, 0x4242 + type).putShort(10, (short) 0x8000);
        putMac(d, 28, MAC);
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
        return d.array();
    }

    private static long mac(ByteBuffer b, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (b.get(at + i) & 0xff);
        }
        return m;
    }

    private static void putMac(ByteBuffer b, int at, long mac) {
        for (int i = 0; i < 6; i++) {
            b.put(at + i, (byte) (mac >>> (40 - 8 * i)));
        }
    }

    private static ByteBuffer ip(long dstMac, int protocol, int src, int dst, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        putMac(b, 0, dstMac);
        putMac(b, 6, MAC);
        b.putShort(12, (short) 0x0800);
        b.putInt(14, 0x4500_0000 | (20 + l4.length));
        b.putInt(18, 0x4000);
        b.putInt(22, 64 << 24 | protocol << 16);
        b.putInt(26, src);
        b.putInt(30, dst);
        b.putShort(24, (short) checksum(b.array(), 14, 20, 0));
        b.put(34, l4);
        return b;
    }

    private static byte[] udp(int src, int dst, int sport, int dport, byte[] data) {
        ByteBuffer u = ByteBuffer.allocate(8 + data.length);
        u.putShort(0, (short) sport).putShort(2, (short) dport).putShort(4, (short) (8 + data.length));
        u.put(8, data);
        int sum = checksum(u.array(), 0, u.capacity(), pseudoHeader(src, dst, 17, u.capacity()));
        u.putShort(6, (short) (sum == 0 ? 0xffff : sum));
        return u.array();
    }

    private static byte[] tcp(int src, int dst, int sport, int dport, int seq, int ack, int flags, byte[] options, byte[] data) {
        int hlen = 20 + options.length;
        ByteBuffer t = ByteBuffer.allocate(hlen + data.length);
        t.putShort(0, (short) sport).putShort(2, (short) dport).putInt(4, seq).putInt(8, ack);
        t.putInt(12, (hlen / 4) << 28 | flags << 16 | 65535);
        t.put(20, options);
        t.put(hlen, data);
        t.putShort(16, (short) checksum(t.array(), 0, t.capacity(), pseudoHeader(src, dst, 6, t.capacity())));
        return t.array();
    }

    private static long pseudoHeader(int src, int dst, int protocol, int length) {
        return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
    }

    private static int checksum(byte[] b, int off, int len, long initial) {
        long sum = initial;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += (b[off + i] & 0xff) << 8 | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }
}
