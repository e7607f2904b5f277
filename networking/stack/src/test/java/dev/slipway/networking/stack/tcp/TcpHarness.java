package dev.slipway.networking.stack.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.ByteBuffer;
import java.util.concurrent.Callable;

import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.host.FakeHost;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.RecordingOutput;
import dev.slipway.networking.stack.loop.EventLoop;

/** TCP alone: a guest scripted segment by segment, an in-memory host, the sent segments recorded. */
final class TcpHarness implements AutoCloseable {
    static final int GUEST = Ip4.parse("192.168.65.3");
    static final int REMOTE = Ip4.parse("203.0.113.7");
    static final int GUEST_PORT = 40000;
    static final int PORT = 80;

    final Stats stats = new Stats();
    final RecordingOutput out = new RecordingOutput();
    final FakeHost host = new FakeHost();
    final EventLoop loop;
    final Tcp tcp;
    final FlowKey key = new FlowKey().set(GUEST, GUEST_PORT, REMOTE, PORT);
    private final ByteBuffer frame = ByteBuffer.allocateDirect(70_000);
    private final PacketContext packet = new PacketContext();
    /** The guest's next sequence number, and the next it expects from us. */
    int guestSeq = 1000;
    int ourSeq;

    TcpHarness(NetConfig config) {
        loop = new EventLoop("tcp-test-loop", this::flushTcp);
        tcp = new Tcp(config, stats, loop, out, host);
        loop.start();
    }

    TcpHarness() {
        this(NetConfig.defaults());
    }

    private void flushTcp() {
        tcp.flush();
    }

    /** Runs {@code action} with the loop's lock held, as the stack's threads do. */
    <T> T locked(Callable<T> action) throws Exception {
        loop.lock();
        try {
            return action.call();
        } finally {
            loop.unlock();
        }
    }

    void locked(Runnable action) throws Exception {
        locked(() -> {
            action.run();
            return null;
        });
    }

    /** The guest sends a segment; the batch ends after it. */
    void guest(int flags, int seq, int ack, int window, byte[] payload, byte[] options) throws Exception {
        segment(GUEST_PORT, PORT, flags, seq, ack, window, payload, options);
    }

    /** The guest port of the connection a test opened towards the guest. */
    int lastActivePort = 8080;

    /** The guest answers a connection we opened to its port {@link #lastActivePort} from our {@code ourPort}. */
    void guestFrom(int flags, int seq, int ack, int ourPort) throws Exception {
        segment(lastActivePort, ourPort, flags, seq, ack, 65535, new byte[0], new byte[0]);
    }

    private void segment(int srcPort, int dstPort, int flags, int seq, int ack, int window, byte[] payload, byte[] options)
            throws Exception {
        int l4 = RecordingOutput.L4;
        int hlen = 20 + options.length;
        frame.clear();
        frame.putShort(l4, (short) srcPort).putShort(l4 + 2, (short) dstPort).putInt(l4 + 4, seq).putInt(l4 + 8, ack);
        frame.putInt(l4 + 12, (hlen / 4) << 28 | flags << 16 | window).putInt(l4 + 16, 0);
        frame.put(l4 + 20, options).put(l4 + hlen, payload);
        frame.limit(l4 + hlen + payload.length);
        packet.family = 4;
        packet.srcHi = 0;
        packet.srcLo = GUEST & 0xffff_ffffL;
        packet.dstHi = 0;
        packet.dstLo = REMOTE & 0xffff_ffffL;
        packet.destination = PacketContext.Destination.REMOTE;
        packet.protocol = IpProtocols.TCP;
        packet.ipOffset = 14;
        packet.l4Offset = l4;
        packet.l4Length = hlen + payload.length;
        packet.checksumPending = true;
        packet.linkOffload = false;
        locked(() -> {
            tcp.input(packet, frame);
            tcp.flush();
        });
    }

    void guest(int flags, byte[] payload) throws Exception {
        guest(flags, guestSeq, ourSeq, 65535, payload, new byte[0]);
        guestSeq += payload.length + ((flags & (Tcp.SYN | Tcp.FIN)) != 0 ? 1 : 0);
    }

    /** The next segment we sent, within two seconds. */
    Seg next() throws InterruptedException {
        RecordingOutput.Sent s = out.next(2000);
        assertNotNull(s, "no segment from the stack");
        return new Seg(s.segment(), s.gsoSize());
    }

    Seg nextWithin(long millis) throws InterruptedException {
        RecordingOutput.Sent s = out.next(millis);
        return s == null ? null : new Seg(s.segment(), s.gsoSize());
    }

    /** SYN (MSS 1460), SYN-ACK, ACK: an established connection to a host that connects at once. */
    FakeHost.Stream handshake() throws Exception {
        guest(Tcp.SYN, guestSeq, 0, 65535, new byte[0], new byte[] {2, 4, 0x05, (byte) 0xb4});
        guestSeq++;
        Seg synAck = next();
        assertEquals(Tcp.SYN | Tcp.ACK, synAck.flags());
        assertEquals(guestSeq, synAck.ack());
        ourSeq = synAck.seq() + 1;
        guest(Tcp.ACK, new byte[0]);
        assertEquals(TcpState.ESTABLISHED, state());
        return host.last();
    }

    TcpState state() throws Exception {
        return locked(() -> {
            TcpConnection c = tcp.connection(key);
            return c == null ? TcpState.CLOSED : c.state;
        });
    }

    /** A segment we sent. */
    record Seg(byte[] bytes, int gsoSize) {
        ByteBuffer b() {
            return ByteBuffer.wrap(bytes);
        }

        int seq() {
            return b().getInt(4);
        }

        int ack() {
            return b().getInt(8);
        }

        int flags() {
            return bytes[13] & 0x3f;
        }

        int window() {
            return b().getShort(14) & 0xffff;
        }

        byte[] payload() {
            int hlen = (bytes[12] >> 4 & 15) * 4;
            byte[] p = new byte[bytes.length - hlen];
            System.arraycopy(bytes, hlen, p, 0, p.length);
            return p;
        }
    }

    @Override
    public void close() throws Exception {
        locked(tcp::closeAll);
        loop.close();
        loop.closeSelector();
    }
}
