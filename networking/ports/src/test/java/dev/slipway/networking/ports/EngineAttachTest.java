package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.platform.linux.natives.Descriptors;
import dev.slipway.platform.linux.natives.Natives;
import dev.slipway.platform.linux.natives.ReceivedSockets;

/**
 * The engine channel as the helper attaches it: a connection to {@code engine.sock} is only the news
 * that a VM started, the channel itself comes from the attacher ({@code vm.attach-engine}), and each
 * new one replaces the last, as when a runtime comes back to a VM that kept running. Also the
 * adoption of a received Unix socket descriptor into a Java channel.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EngineAttachTest {

    @TempDir
    Path dir;
    Path engine;
    Path docker;
    ServerSocketChannel guestPorts;
    BlockingQueue<SocketChannel> guests = new LinkedBlockingQueue<>();
    AtomicInteger attaches = new AtomicInteger();
    volatile boolean vmRunning = true;
    EngineChannel channel;

    @BeforeEach
    void start() throws IOException {
        engine = dir.resolve("run/engine.sock");
        docker = dir.resolve("run/docker.sock");
        // the emulator's engine port: each attach is a new connection to it, its other end the guest's
        guestPorts = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(dir.resolve("port.sock")));
        channel = new EngineChannel(engine, docker, () -> {
            attaches.incrementAndGet();
            if (!vmRunning) {
                throw new IOException("the VM is not running");
            }
            SocketChannel runtimeSide = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("port.sock")));
            guests.add(guestPorts.accept());
            return runtimeSide;
        });
    }

    @AfterEach
    void stop() throws IOException {
        channel.close();
        guestPorts.close();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static byte firstFrameType(SocketChannel guest) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(EngineChannel.HEADER);
        while (h.hasRemaining()) {
            if (guest.read(h) < 0) {
                throw new IOException("closed");
            }
        }
        return h.get(0);
    }

    @Test
    void aConnectionToTheChannelSocketIsTheNewsAndTheAttacherBringsTheChannel() throws Exception {
        try (SocketChannel news = SocketChannel.open(UnixDomainSocketAddress.of(engine))) {
            ByteBuffer b = ByteBuffer.allocate(1);
            assertEquals(-1, news.read(b), "the news is closed at once, never made the channel");
        }
        SocketChannel guest = guests.poll(10, TimeUnit.SECONDS);
        assertTrue(guest != null, "the attacher was asked");
        assertEquals(EngineChannel.RESET, firstFrameType(guest), "a new host side starts with RESET");
        await("attached", channel::attached);
    }

    @Test
    void aVmThatDoesNotRunIsNoErrorAndANewChannelReplacesTheLast() throws Exception {
        vmRunning = false;
        channel.attachInBackground();
        await("the attempt", () -> attaches.get() == 1);
        Thread.sleep(100);
        assertFalse(channel.attached());

        vmRunning = true;
        channel.attachInBackground();
        SocketChannel first = guests.poll(10, TimeUnit.SECONDS);
        assertEquals(EngineChannel.RESET, firstFrameType(first));
        await("attached", channel::attached);
        // a runtime that comes back asks again: the new connection carries the engine, the old one ends
        channel.attachInBackground();
        SocketChannel second = guests.poll(10, TimeUnit.SECONDS);
        assertEquals(EngineChannel.RESET, firstFrameType(second));
        ByteBuffer b = ByteBuffer.allocate(16);
        assertEquals(-1, first.read(b), "the replaced channel is closed");
        assertTrue(channel.attached());
    }

    @Test
    void aReceivedUnixSocketBecomesAJavaChannel() throws Exception {
        Assumptions.assumeTrue(Natives.available(), () -> "needs the Linux natives: " + Natives.unavailableReason());
        int[] pair = Descriptors.socketPair();
        try (SocketChannel a = ReceivedSockets.unix(pair[0], dir.resolve("adopt-a.sock"));
                SocketChannel b = ReceivedSockets.unix(pair[1], dir.resolve("adopt-b.sock"))) {
            a.write(ByteBuffer.wrap("through the pair".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(64);
            while (in.position() < 16) {
                assertTrue(b.read(in) > 0);
            }
            assertEquals("through the pair", new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
            a.close();
            assertEquals(-1, b.read(ByteBuffer.allocate(1)), "closing the channel closes the received socket");
        }
        assertFalse(Files.exists(dir.resolve("adopt-a.sock")), "no scratch listener is left behind");
    }
}
