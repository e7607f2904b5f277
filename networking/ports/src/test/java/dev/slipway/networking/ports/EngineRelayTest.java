package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * The guest's relay ({@code guest/engine-relay.c}, compiled here) against a host side and an engine
 * played by the test: per-connection credit in both directions and what a host breaking it gets.
 */
@Timeout(60)
class EngineRelayTest {
    @TempDir
    Path dir;
    ServerSocketChannel portServer;
    ServerSocketChannel engineServer;
    SocketChannel port;
    Process relay;
    final BlockingQueue<EngineChannelTest.Frame> frames = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        Prerequisites.assumeCommands("gcc");
        Path source = Path.of(System.getProperty("user.dir")).resolve("../../guest/engine-relay.c").normalize();
        Path binary = dir.resolve("relay");
        Commands.check(Duration.ofSeconds(120), "gcc", "-O2", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        Path portPath = dir.resolve("port.sock");
        Path enginePath = dir.resolve("engine.sock");
        portServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(portPath));
        engineServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(enginePath));
        relay = new ProcessBuilder(binary.toString(), portPath.toString(), enginePath.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
        port = portServer.accept();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    frames.add(read());
                }
            } catch (IOException e) {
                frames.add(new EngineChannelTest.Frame((byte) -1, 0, new byte[0]));
            }
        });
        reader.setDaemon(true);
        reader.start();
        send(EngineChannel.RESET, 0, new byte[0]);
    }

    @AfterEach
    void stop() throws IOException {
        if (relay != null) {
            relay.destroyForcibly();
        }
        for (var c : new java.io.Closeable[] {port, portServer, engineServer}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private EngineChannelTest.Frame read() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(EngineChannel.HEADER);
        fill(h);
        h.flip();
        byte type = h.get();
        int id = h.getInt();
        byte[] payload = new byte[h.getInt()];
        fill(ByteBuffer.wrap(payload));
        return new EngineChannelTest.Frame(type, id, payload);
    }

    private void fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (port.read(b) < 0) {
                throw new IOException("the relay closed the port");
            }
        }
    }

    private synchronized void send(byte type, int id, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(EngineChannel.HEADER + payload.length);
        b.put(type).putInt(id).putInt(payload.length).put(payload).flip();
        while (b.hasRemaining()) {
            port.write(b);
        }
    }

    private void credit(int id, int bytes) throws IOException {
        send(EngineChannel.CREDIT, id, ByteBuffer.allocate(4).putInt(bytes).array());
    }

    private SocketChannel openConnection(int id) throws IOException {
        send(EngineChannel.OPEN, id, new byte[0]);
        return engineServer.accept();
    }

    private String relayLog() throws IOException {
        return Files.readString(dir.resolve("relay.log"));
    }

    @Test
    void anEngineConnectionThatStopsReadingHoldsBackOnlyItself() throws Exception {
        try (SocketChannel stalled = openConnection(1); SocketChannel other = openConnection(2)) {
            byte[] chunk = new byte[EngineChannel.MAX_PAYLOAD];
            long sent = 0;
            int outstanding = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && sent < 64L << 20) {
                while (outstanding < EngineChannel.WINDOW) {
                    int n = Math.min(chunk.length, EngineChannel.WINDOW - outstanding);
                    send(EngineChannel.DATA, 1, java.util.Arrays.copyOf(chunk, n));
                    outstanding += n;
                    sent += n;
                }
                EngineChannelTest.Frame f = frames.poll(1, TimeUnit.SECONDS);
                if (f == null) {
                    break;
                }
                assertEquals(EngineChannel.CREDIT, f.type(), "a credit for the stalled connection");
                assertEquals(1, f.id());
                outstanding -= ByteBuffer.wrap(f.payload()).getInt();
            }
            assertEquals(EngineChannel.WINDOW, outstanding, "the stalled connection's window is full");

            send(EngineChannel.DATA, 2, "ping".getBytes(StandardCharsets.UTF_8));
            ByteBuffer got = ByteBuffer.allocate(4);
            while (got.hasRemaining()) {
                assertTrue(other.read(got) > 0);
            }
            assertEquals("ping", new String(got.array(), StandardCharsets.UTF_8));
            other.write(ByteBuffer.wrap("pong".getBytes(StandardCharsets.UTF_8)));
            EngineChannelTest.Frame f = frames.poll(10, TimeUnit.SECONDS);
            while (f != null && f.type() == EngineChannel.CREDIT && f.id() == 2) {
                f = frames.poll(10, TimeUnit.SECONDS);
            }
            assertEquals(EngineChannel.DATA, f.type());
            assertEquals(2, f.id());
            assertEquals("pong", new String(f.payload(), StandardCharsets.UTF_8));

            ByteBuffer drain = ByteBuffer.allocate(1 << 16);
            long read = 0;
            while (read < sent) {
                drain.clear();
                read += stalled.read(drain);
            }
            assertEquals(sent, read);
        }
    }

    @Test
    void theRelaySendsNoMoreThanTheHostsCredit() throws Exception {
        try (SocketChannel engine = openConnection(1)) {
            Thread writer = new Thread(() -> {
                try {
                    engine.write(ByteBuffer.wrap(new byte[EngineChannel.WINDOW + 100_000]));
                } catch (IOException e) {
                    // the test ends the connection
                }
            });
            writer.setDaemon(true);
            writer.start();
            int received = 0;
            for (var f = frames.poll(5, TimeUnit.SECONDS); f != null; f = frames.poll(2, TimeUnit.SECONDS)) {
                assertEquals(EngineChannel.DATA, f.type());
                received += f.payload().length;
            }
            assertEquals(EngineChannel.WINDOW, received);
            credit(1, 1000);
            int more = 0;
            for (var f = frames.poll(5, TimeUnit.SECONDS); f != null; f = frames.poll(2, TimeUnit.SECONDS)) {
                more += f.payload().length;
            }
            assertEquals(1000, more);
        }
    }

    @Test
    void aCreditForBytesNeverSentIsAProtocolErrorThatDropsEveryConnection() throws Exception {
        try (SocketChannel a = openConnection(1); SocketChannel b = openConnection(2)) {
            credit(1, 1);
            Set<Integer> closed = new HashSet<>();
            for (int i = 0; i < 2; i++) {
                var f = frames.poll(10, TimeUnit.SECONDS);
                assertEquals(EngineChannel.CLOSE, f.type());
                closed.add(f.id());
            }
            assertEquals(Set.of(1, 2), closed);
            assertEquals(-1, a.read(ByteBuffer.allocate(1)));
            assertTrue(relayLog().contains("protocol error: a credit for bytes never sent (connection 1, 1 bytes)"), relayLog());
        }
    }

    @Test
    void aCreditFrameOfTheWrongLengthIsAProtocolError() throws Exception {
        try (SocketChannel a = openConnection(1)) {
            send(EngineChannel.CREDIT, 1, new byte[3]);
            var f = frames.poll(10, TimeUnit.SECONDS);
            assertEquals(EngineChannel.CLOSE, f.type());
            assertTrue(relayLog().contains("protocol error: a CREDIT frame of the wrong length (connection 1, 3 bytes)"), relayLog());
        }
    }

    @Test
    void aHostSendingPastItsWindowIsAProtocolError() throws Exception {
        try (SocketChannel a = openConnection(1)) {
            byte[] chunk = new byte[EngineChannel.MAX_PAYLOAD];
            EngineChannelTest.Frame f = null;
            for (int i = 0; i < 4096 && f == null; i++) {
                send(EngineChannel.DATA, 1, chunk);
                for (f = frames.poll(); f != null && f.type() == EngineChannel.CREDIT; f = frames.poll()) {
                    // the engine's socket takes some before the window fills
                }
            }
            if (f == null) {
                f = frames.poll(10, TimeUnit.SECONDS);
                while (f != null && f.type() == EngineChannel.CREDIT) {
                    f = frames.poll(10, TimeUnit.SECONDS);
                }
            }
            assertEquals(EngineChannel.CLOSE, f.type());
            assertTrue(relayLog().contains("protocol error: the host sent past its window"), relayLog());
        }
    }
}
