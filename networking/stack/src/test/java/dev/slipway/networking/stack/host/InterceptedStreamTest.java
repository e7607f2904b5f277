package dev.slipway.networking.stack.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.loop.EventLoop;

/** The intercepted connection's two bounded buffers, driven from TCP's side (lock held) and the router's threads. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class InterceptedStreamTest {
    final EventLoop loop = new EventLoop("test-loop", () -> { });
    final AtomicInteger readable = new AtomicInteger(), writable = new AtomicInteger();
    final HostStream.Events events = new HostStream.Events() {
        @Override
        public void connected() {
        }

        @Override
        public void connectFailed(boolean refused) {
        }

        @Override
        public void readable() {
            readable.incrementAndGet();
        }

        @Override
        public void writable() {
            writable.incrementAndGet();
        }
    };
    final InterceptedStream stream = new InterceptedStream(loop, new FlowKey().set(0xc0a8_4103, 40000, 0x0a00_0001, 443), events);
    final GuestConnection router = stream.connection();

    int tcpWrite(byte[] b) throws IOException {
        loop.lock();
        try {
            return stream.write(ByteBuffer.wrap(b));
        } finally {
            loop.unlock();
        }
    }

    int tcpRead(ByteBuffer dst) throws IOException {
        loop.lock();
        try {
            return stream.read(dst);
        } finally {
            loop.unlock();
        }
    }

    @Test
    void bytesAndEndsPassBothWays() throws Exception {
        assertEquals(10, router.destinationIp() >>> 24);
        assertEquals(443, router.destinationPort());
        assertEquals(5, tcpWrite("hello".getBytes()));
        stream.shutdownOutput();
        assertArrayEquals("hello".getBytes(), router.input().readAllBytes());
        router.output().write("answer".getBytes());
        router.close();
        assertTrue(readable.get() >= 1, "TCP was told to read");
        ByteBuffer got = ByteBuffer.allocate(100);
        assertEquals(6, tcpRead(got));
        assertEquals(-1, tcpRead(got), "the end after the bytes");
        assertEquals("answer", new String(got.array(), 0, got.position()));
    }

    @Test
    void aSilentGuestTimesTheReadOut() {
        router.readTimeout(100);
        assertThrows(SocketTimeoutException.class, () -> router.input().read());
    }

    @Test
    void theGuestSideTakesNoMoreThanItsBufferAndTcpIsToldWhenThereIsRoom() throws Exception {
        byte[] big = new byte[InterceptedStream.BUFFER_BYTES + 1000];
        assertEquals(InterceptedStream.BUFFER_BYTES, tcpWrite(big));
        assertEquals(0, tcpWrite(big), "full");
        loop.lock();
        try {
            stream.writeInterest(true);
        } finally {
            loop.unlock();
        }
        assertEquals(1000, router.input().read(new byte[1000]));
        assertEquals(1, writable.get());
    }

    @Test
    void aWriterBlockedOnAFullGuestIsReleasedByTcpReadingAndFailsOnAReset() throws Exception {
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                router.output().write(new byte[InterceptedStream.BUFFER_BYTES * 4]); // more than TCP drains below plus the buffer
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        ByteBuffer drain = ByteBuffer.allocate(InterceptedStream.BUFFER_BYTES);
        long deadline = System.nanoTime() + 5_000_000_000L;
        int total = 0;
        while (total < InterceptedStream.BUFFER_BYTES + 1 && System.nanoTime() < deadline) {
            drain.clear();
            total += tcpRead(drain);
        }
        assertTrue(total > InterceptedStream.BUFFER_BYTES, "the writer went on after TCP read: " + total);
        stream.abort(); // the guest reset the connection
        Exception e = assertThrows(Exception.class, () -> writer.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof java.io.UncheckedIOException, e.toString());
        assertThrows(IOException.class, () -> router.input().read());
    }

    @Test
    void theRoutersAbortMakesTcpsNextReadFail() {
        router.abort();
        assertThrows(IOException.class, () -> tcpRead(ByteBuffer.allocate(10)));
        assertThrows(IOException.class, () -> tcpWrite(new byte[1]));
    }
}
