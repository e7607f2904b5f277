package dev.slipway.unixhttp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnixDomainSocketFactoryTest {

    @TempDir
    Path tmp;

    private Path socketFile;
    private ServerSocketChannel server;
    private Thread echo;
    private final AtomicInteger accepted = new AtomicInteger();
    /** What the server side of each connection received before the client closed it. */
    private final BlockingQueue<String> closedWith = new ArrayBlockingQueue<>(16);

    /** An echo server: every connection gets back what it sends, until it closes. */
    @BeforeEach
    void startEchoServer() throws IOException {
        socketFile = tmp.resolve("echo.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketFile));
        echo = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel connection = server.accept();
                    accepted.incrementAndGet();
                    Thread t = new Thread(() -> echo(connection));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        echo.setDaemon(true);
        echo.start();
    }

    private void echo(SocketChannel connection) {
        StringBuilder all = new StringBuilder();
        try (connection) {
            ByteBuffer buffer = ByteBuffer.allocate(1024);
            while (connection.read(buffer) >= 0) {
                buffer.flip();
                all.append(StandardCharsets.UTF_8.decode(buffer.duplicate()));
                while (buffer.hasRemaining()) {
                    connection.write(buffer);
                }
                buffer.clear();
            }
        } catch (IOException e) {
            // closed
        }
        closedWith.add(all.toString());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        echo.join(5000);
    }

    private static String readExactly(InputStream in, int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    @Test
    void everyWayOfCreatingAConnectedSocketReachesTheSocketFileWhateverHostAndPort() throws Exception {
        UnixDomainSocketFactory factory = new UnixDomainSocketFactory(socketFile);
        InetAddress somewhere = InetAddress.getByAddress(new byte[] {10, 1, 2, 3});
        Socket[] sockets = {
            factory.createSocket("slipway", 80),
            factory.createSocket("example.test", 443, InetAddress.getLoopbackAddress(), 0),
            factory.createSocket(somewhere, 8080),
            factory.createSocket(somewhere, 1, InetAddress.getLoopbackAddress(), 2),
        };
        for (Socket socket : sockets) {
            try (socket) {
                assertTrue(socket.isConnected());
                socket.getOutputStream().write("hi".getBytes(StandardCharsets.UTF_8));
                assertEquals("hi", readExactly(socket.getInputStream(), 2));
            }
        }
        assertEquals(4, accepted.get());
    }

    @Test
    void anUnconnectedSocketConnectsOnRequestAndTellsItsState() throws Exception {
        Socket socket = new UnixDomainSocketFactory(socketFile).createSocket();
        assertFalse(socket.isConnected());
        assertFalse(socket.isClosed());
        IOException e = assertThrows(IOException.class, socket::getInputStream);
        assertEquals("not connected to " + socketFile, e.getMessage());
        assertThrows(IOException.class, socket::getOutputStream);
        socket.connect(null, 1000);
        assertTrue(socket.isConnected());
        assertEquals(InetAddress.getLoopbackAddress(), socket.getInetAddress());
        assertEquals(InetAddress.getLoopbackAddress(), socket.getLocalAddress());
        socket.setSoTimeout(5); // accepted and ignored: OkHttp's own timeouts close the socket
        socket.close();
        assertTrue(socket.isClosed());
        assertFalse(socket.isConnected());
    }

    @Test
    void closingAnUnconnectedSocketIsFine() throws IOException {
        Socket socket = new UnixDomainSocketFactory(socketFile).createSocket();
        socket.close();
        assertTrue(socket.isClosed());
    }

    @Test
    void aMissingSocketFileFailsToConnect() {
        UnixDomainSocketFactory factory = new UnixDomainSocketFactory(tmp.resolve("nobody.sock"));
        assertThrows(IOException.class, () -> factory.createSocket("slipway", 80));
    }

    @Test
    void singleBytesAndArraysRoundTripAndAnEmptyReadReadsNothing() throws Exception {
        try (Socket socket = new UnixDomainSocketFactory(socketFile).createSocket("slipway", 80)) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(0xff);
            assertEquals(0xff, in.read(), "a byte above 127 reads back as an unsigned value");
            assertEquals(0, in.read(new byte[4], 0, 0));
            byte[] large = new byte[256 * 1024];
            for (int i = 0; i < large.length; i++) {
                large[i] = (byte) i;
            }
            Thread writer = new Thread(() -> {
                try {
                    out.write(large, 0, large.length);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            writer.start();
            assertArrayEquals(large, in.readNBytes(large.length));
            writer.join(10_000);
        }
    }

    @Test
    void theEndOfTheStreamReadsAsMinusOne() throws Exception {
        try (Socket socket = new UnixDomainSocketFactory(socketFile).createSocket("slipway", 80)) {
            socket.shutdownOutput(); // the echo server sees the end and closes its side
            assertEquals(-1, socket.getInputStream().read());
            assertEquals(-1, socket.getInputStream().read(new byte[8], 0, 8));
        }
    }

    @Test
    void aReadBlockedOnOneThreadDoesNotStallAWriteOnAnother() throws Exception {
        try (Socket socket = new UnixDomainSocketFactory(socketFile).createSocket("slipway", 80)) {
            AtomicReference<String> read = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    read.set(readExactly(socket.getInputStream(), 4));
                } catch (IOException e) {
                    read.set(e.toString());
                }
            });
            reader.start();
            // whether or not the reader is blocked yet, the write must go through and its echo reach it
            for (int i = 0; i < 50 && reader.getState() != Thread.State.RUNNABLE; i++) {
                Thread.sleep(10);
            }
            socket.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
            reader.join(10_000);
            assertFalse(reader.isAlive(), "the reader got its answer");
            assertEquals("ping", read.get());
        }
    }

    @Test
    void closingAStreamClosesTheConnection() throws Exception {
        Socket socket = new UnixDomainSocketFactory(socketFile).createSocket("slipway", 80);
        socket.getOutputStream().write("bye".getBytes(StandardCharsets.UTF_8));
        assertEquals("bye", readExactly(socket.getInputStream(), 3));
        socket.getInputStream().close();
        assertTrue(socket.isClosed());
        assertEquals("bye", closedWith.poll(10, TimeUnit.SECONDS));
    }
}
