package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.Frames;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.MiniGuest;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.transport.SocketListener;
import dev.slipway.networking.stack.transport.StreamTransport;

/** The QEMU-stream and vpnkit transports against a peer thread that speaks each framing. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamTransportsTest {
    Path dir;
    NetStack stack;
    HostServers.Echo echo;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory("slipway-net-test");
        stack = new NetStack(NetConfig.defaults());
        echo = new HostServers.Echo();
    }

    @AfterEach
    void stop() throws IOException {
        echo.close();
        stack.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The peer's side of a stream socket: a reader thread splits frames by the framing's header. */
    static final class Peer implements MiniGuest.Pipe, AutoCloseable {
        final SocketChannel channel;
        final boolean qemu;
        final BlockingQueue<ByteBuffer> frames = new LinkedBlockingQueue<>();

        Peer(Path path, boolean qemu) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(path));
            this.qemu = qemu;
        }

        void startReading() {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        ByteBuffer h = ByteBuffer.allocate(qemu ? 4 : 2).order(qemu ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                        readFully(h);
                        int len = qemu ? h.getInt(0) : Short.toUnsignedInt(h.getShort(0));
                        ByteBuffer f = ByteBuffer.allocateDirect(len);
                        readFully(f);
                        f.clear();
                        frames.add(f);
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        void readFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (channel.read(b) < 0) {
                    throw new IOException("closed");
                }
            }
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            ByteBuffer h = ByteBuffer.allocate(qemu ? 4 : 2).order(qemu ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            if (qemu) {
                h.putInt(frame.limit());
            } else {
                h.putShort((short) frame.limit());
            }
            h.flip();
            frame.position(0);
            channel.write(new ByteBuffer[] {h, frame});
        }

        @Override
        public ByteBuffer next(long millis) throws InterruptedException {
            return frames.poll(millis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    @Test
    void qemuStreamPeerGetsArpDhcpAndATcpConnection() throws Exception {
        Path path = dir.resolve("vm.sock");
        try (var listener = new SocketListener(path, StreamTransport.Framing.QEMU, 1500, stack::attach);
             var peer = new Peer(path, true)) {
            peer.startReading();
            MiniGuest guest = new MiniGuest(peer, Frames.GUEST_MAC);
            assertEquals(Frames.GATEWAY_MAC, guest.arpGateway());
            assertEquals(Frames.GUEST, guest.dhcp());
            assertEquals("hello over qemu", guest.tcpEcho(Frames.HOST_ALIAS, echo.port(), "hello over qemu"));
        }
    }

    @Test
    void vpnkitPeerHandshakesThenGetsArpDhcpAndATcpConnection() throws Exception {
        Path path = dir.resolve("vpnkit.sock");
        try (var listener = new SocketListener(path, StreamTransport.Framing.VPNKIT, 1500, stack::attach);
             var peer = new Peer(path, false)) {
            ByteBuffer init = ByteBuffer.allocate(49).order(ByteOrder.LITTLE_ENDIAN);
            init.put("VMN3T".getBytes(StandardCharsets.US_ASCII)).putInt(22).put(new byte[40]).flip();
            peer.channel.write(init);
            ByteBuffer theirInit = ByteBuffer.allocate(49).order(ByteOrder.LITTLE_ENDIAN);
            peer.readFully(theirInit);
            assertEquals("VMN3T", new String(theirInit.array(), 0, 5, StandardCharsets.US_ASCII));
            ByteBuffer command = ByteBuffer.allocate(41);
            command.put((byte) 1).put("6f5c6b2e-1d2a-4c8e-9a55-0123456789ab".getBytes(StandardCharsets.US_ASCII)).put(new byte[4]).flip();
            peer.channel.write(command);
            ByteBuffer vif = ByteBuffer.allocate(258).order(ByteOrder.LITTLE_ENDIAN);
            peer.readFully(vif);
            assertEquals(1, vif.get(0));
            assertEquals(1500, vif.getShort(1));
            long mac = 0;
            for (int i = 0; i < 6; i++) {
                mac = mac << 8 | (vif.get(5 + i) & 0xff);
            }
            assertEquals(0, mac & 0x0100_0000_0000L, "a unicast MAC: " + Mac.toString(mac));
            peer.startReading();
            MiniGuest guest = new MiniGuest(peer, mac);
            assertEquals(Frames.GATEWAY_MAC, guest.arpGateway());
            assertEquals(Frames.GUEST, guest.dhcp());
            assertEquals("hello over vpnkit", guest.tcpEcho(Frames.HOST_ALIAS, echo.port(), "hello over vpnkit"));
        }
    }
}
