package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host side of the engine channel against a guest side played here, frame by frame: what the
 * guest relay ({@code guest/engine-relay.c}) sees and sends, and what a misbehaving guest gets.
 */
@Timeout(30)
class EngineChannelTest {
    @TempDir
    Path dir;
    EngineChannel channel;
    Path engine;
    Path docker;

    @BeforeEach
    void start() throws IOException {
        engine = dir.resolve("run/engine.sock");
        docker = dir.resolve("run/docker.sock");
        channel = new EngineChannel(engine, docker);
    }

    @AfterEach
    void stop() {
        channel.close();
    }

    record Frame(byte type, int id, byte[] payload) {}

    /** The guest side: connects as QEMU does and reads the host's frames. */
    final class Guest implements AutoCloseable {
        final SocketChannel port;

        Guest() throws Exception {
            port = SocketChannel.open(UnixDomainSocketAddress.of(engine));
            Frame reset = read();
            assertEquals(EngineChannel.RESET, reset.type());
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!channel.attached() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(channel.attached());
        }

        Frame read() throws IOException {
            ByteBuffer h = ByteBuffer.allocate(EngineChannel.HEADER);
            fill(h);
            h.flip();
            byte type = h.get();
            int id = h.getInt();
            byte[] payload = new byte[h.getInt()];
            fill(ByteBuffer.wrap(payload));
            return new Frame(type, id, payload);
        }

        private void fill(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (port.read(b) < 0) {
                    throw new IOException("the host closed the channel");
                }
            }
        }

        void send(byte type, int id, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(EngineChannel.HEADER + payload.length);
            b.put(type).putInt(id).putInt(payload.length).put(payload).flip();
            while (b.hasRemaining()) {
                port.write(b);
            }
        }

        void sendCredit(int id, int bytes) throws IOException {
            send(EngineChannel.CREDIT, id, ByteBuffer.allocate(4).putInt(bytes).array());
        }

        /** From here on the host's frames are read by a thread into the returned queue. */
        BlockingQueue<Frame> collect() {
            BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        frames.add(read());
                    }
                } catch (IOException e) {
                    frames.add(new Frame((byte) -1, 0, new byte[0]));
                }
            });
            t.setDaemon(true);
            t.start();
            return frames;
        }

        void sendHeader(byte type, int id, int length) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(EngineChannel.HEADER);
            b.put(type).putInt(id).putInt(length).flip();
            port.write(b);
        }

        @Override
        public void close() throws IOException {
            port.close();
        }
    }

    static SocketChannel client(Path socket) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    static String readAll(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        StringBuilder s = new StringBuilder();
        while (c.read(b) >= 0) {
            b.flip();
            s.append(StandardCharsets.UTF_8.decode(b));
            b.clear();
        }
        return s.toString();
    }

    @Test
    void socketsAreTheUsersOnly() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(docker)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(engine)));
    }

    @Test
    void withoutAGuestAClientIsClosedAtOnce() throws IOException {
        assertFalse(channel.attached());
        try (SocketChannel c = client(docker)) {
            assertEquals(-1, c.read(ByteBuffer.allocate(16)));
        }
    }

    @Test
    void aConnectionIsOpenedCarriedHalfClosedAndClosed() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            Frame open = guest.read();
            assertEquals(EngineChannel.OPEN, open.type());
            c.write(ByteBuffer.wrap("GET /_ping HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.UTF_8)));
            Frame data = guest.read();
            assertEquals(EngineChannel.DATA, data.type());
            assertEquals(open.id(), data.id());
            assertEquals("GET /_ping HTTP/1.1\r\n\r\n", new String(data.payload(), StandardCharsets.UTF_8));
            c.shutdownOutput();
            assertEquals(new Frame(EngineChannel.SHUT, open.id(), new byte[0]).type(), guest.read().type());
            guest.send(EngineChannel.DATA, open.id(), "OK".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.SHUT, open.id(), new byte[0]);
            assertEquals("OK", readAll(c));
            guest.send(EngineChannel.CLOSE, open.id(), new byte[0]);
        }
    }

    @Test
    void connectionsGetTheirOwnIdsAndTheirOwnBytes() throws Exception {
        try (Guest guest = new Guest(); SocketChannel a = client(docker); SocketChannel b = client(docker)) {
            int first = guest.read().id();
            int second = guest.read().id();
            assertNotEquals(first, second);
            guest.send(EngineChannel.DATA, second, "to-b".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.DATA, first, "to-a".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.SHUT, first, new byte[0]);
            guest.send(EngineChannel.SHUT, second, new byte[0]);
            assertEquals("to-a", readAll(a));
            assertEquals("to-b", readAll(b));
        }
    }

    @Test
    void theGuestRefusingAConnectionClosesIt() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            guest.send(EngineChannel.CLOSE, id, new byte[0]);
            assertEquals("", readAll(c));
        }
    }

    @Test
    void framesForUnknownConnectionsAreIgnored() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            guest.send(EngineChannel.DATA, id + 1000, "stray".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.SHUT, id + 1001, new byte[0]);
            guest.send(EngineChannel.DATA, id, "mine".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.SHUT, id, new byte[0]);
            assertEquals("mine", readAll(c));
        }
    }

    @Test
    void anOversizedFrameEndsTheChannelAndItsConnections() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            guest.read();
            guest.sendHeader(EngineChannel.DATA, 1, Integer.MAX_VALUE);
            assertEquals("", readAll(c));
            assertThrows(IOException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    guest.read();
                }
            });
            assertFalse(channel.attached());
        }
    }

    @Test
    void anUnknownFrameTypeEndsTheChannel() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            guest.read();
            guest.send((byte) 77, 1, new byte[0]);
            assertEquals("", readAll(c));
            assertFalse(channel.attached());
        }
    }

    @Test
    void aNewGuestSideReplacesTheOldOneAndStartsWithAReset() throws Exception {
        try (Guest first = new Guest(); SocketChannel c = client(docker)) {
            first.read();
            try (Guest second = new Guest()) {
                assertEquals("", readAll(c));
                try (SocketChannel d = client(docker)) {
                    assertEquals(EngineChannel.OPEN, second.read().type());
                }
            }
        }
    }

    @Test
    void aLiveSocketIsNotTakenOver() {
        IOException e = assertThrows(IOException.class, () -> new EngineChannel(dir.resolve("other.sock"), docker));
        assertTrue(e.getMessage().contains("another process"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("other.sock")));
    }

    @Test
    void payloadBytesArriveUnchanged() throws Exception {
        byte[] all = new byte[200_000];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (i * 31);
        }
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            Thread writer = new Thread(() -> {
                try {
                    c.write(ByteBuffer.wrap(all));
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            ByteBuffer got = ByteBuffer.allocate(all.length);
            for (Frame f = guest.read(); f.type() == EngineChannel.DATA; f = guest.read()) {
                assertEquals(id, f.id());
                assertTrue(f.payload().length <= EngineChannel.MAX_PAYLOAD);
                got.put(f.payload());
            }
            writer.join(5000);
            assertArrayEquals(all, got.array());
        }
    }

    @Test
    void aClientThatStopsReadingHoldsBackOnlyItsOwnConnection() throws Exception {
        try (Guest guest = new Guest(); SocketChannel stalled = client(docker); SocketChannel other = client(docker)) {
            int stalledId = guest.read().id();
            int otherId = guest.read().id();
            BlockingQueue<Frame> frames = guest.collect();
            byte[] chunk = new byte[EngineChannel.MAX_PAYLOAD];
            long sent = 0;
            int outstanding = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline && sent < 64L << 20) {
                while (outstanding < EngineChannel.WINDOW) {
                    int n = Math.min(chunk.length, EngineChannel.WINDOW - outstanding);
                    guest.send(EngineChannel.DATA, stalledId, java.util.Arrays.copyOf(chunk, n));
                    outstanding += n;
                    sent += n;
                }
                Frame f = frames.poll(500, TimeUnit.MILLISECONDS);
                if (f == null) {
                    break;
                }
                assertEquals(EngineChannel.CREDIT, f.type());
                assertEquals(stalledId, f.id());
                outstanding -= ByteBuffer.wrap(f.payload()).getInt();
            }
            assertEquals(EngineChannel.WINDOW, outstanding, "the stalled connection's window is full");

            guest.send(EngineChannel.DATA, otherId, "to-other".getBytes(StandardCharsets.UTF_8));
            guest.send(EngineChannel.SHUT, otherId, new byte[0]);
            assertEquals("to-other", readAll(other));
            other.write(ByteBuffer.wrap("from-other".getBytes(StandardCharsets.UTF_8)));
            Frame f = frames.poll(5, TimeUnit.SECONDS);
            while (f != null && f.type() == EngineChannel.CREDIT && f.id() == otherId) {
                f = frames.poll(5, TimeUnit.SECONDS);
            }
            assertEquals(new String(new byte[] {EngineChannel.DATA}) + otherId + "from-other",
                    new String(new byte[] {f.type()}) + f.id() + new String(f.payload(), StandardCharsets.UTF_8));

            ByteBuffer drain = ByteBuffer.allocate(1 << 16);
            long got = 0;
            while (got < sent) {
                drain.clear();
                got += stalled.read(drain);
            }
            assertEquals(sent, got);
            assertTrue(channel.attached());
        }
    }

    @Test
    void theHostSendsNoMoreThanTheGuestsCredit() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            BlockingQueue<Frame> frames = guest.collect();
            Thread writer = new Thread(() -> {
                try {
                    c.write(ByteBuffer.wrap(new byte[EngineChannel.WINDOW + 100_000]));
                } catch (IOException e) {
                    // the test ends the channel
                }
            });
            writer.setDaemon(true);
            writer.start();
            int received = 0;
            for (Frame f = frames.poll(2, TimeUnit.SECONDS); f != null; f = frames.poll(2, TimeUnit.SECONDS)) {
                assertEquals(EngineChannel.DATA, f.type());
                received += f.payload().length;
            }
            assertEquals(EngineChannel.WINDOW, received);
            guest.sendCredit(id, 1000);
            int more = 0;
            for (Frame f = frames.poll(2, TimeUnit.SECONDS); f != null; f = frames.poll(500, TimeUnit.MILLISECONDS)) {
                more += f.payload().length;
            }
            assertEquals(1000, more);
        }
    }

    @Test
    void aGuestSendingPastItsWindowEndsTheChannelWithAProtocolError() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            byte[] chunk = new byte[EngineChannel.MAX_PAYLOAD];
            assertThrows(IOException.class, () -> {
                for (int i = 0; i < 4096; i++) {
                    guest.send(EngineChannel.DATA, id, chunk);
                }
            });
            assertFalse(channel.attached());
            assertTrue(channel.lastEnd().startsWith("protocol error: the guest sent"), channel.lastEnd());
        }
    }

    @Test
    void aCreditOfTheWrongSizeIsAProtocolError() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            guest.send(EngineChannel.CREDIT, id, new byte[2]);
            assertEquals("", readAll(c));
            assertFalse(channel.attached());
            assertTrue(channel.lastEnd().contains("protocol error: a CREDIT frame of 2 bytes"), channel.lastEnd());
        }
    }

    @Test
    void aCreditForBytesNeverSentIsAProtocolError() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            guest.sendCredit(id, 1);
            assertEquals("", readAll(c));
            assertFalse(channel.attached());
            assertTrue(channel.lastEnd().contains("protocol error: a credit of 1 bytes"), channel.lastEnd());
        }
    }

    @Test
    void aNegativeCreditIsAProtocolError() throws Exception {
        try (Guest guest = new Guest(); SocketChannel c = client(docker)) {
            int id = guest.read().id();
            guest.sendCredit(id, -5);
            assertEquals("", readAll(c));
            assertTrue(channel.lastEnd().contains("protocol error: a credit of -5 bytes"), channel.lastEnd());
        }
    }
}
