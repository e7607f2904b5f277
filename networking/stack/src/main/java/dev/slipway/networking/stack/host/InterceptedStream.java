package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.loop.EventLoop;

/**
 * A guest connection the outbound router took for itself: the host side is two bounded buffers
 * between TCP (on the event loop, the loop's lock held) and the router's threads (blocking
 * streams). Lock order: the loop's lock before this object's monitor; the router's threads never
 * hold the monitor while they take the loop's lock to tell TCP it can go on.
 *
 * <p>A live update hands the connection over without the router noticing: the router's threads
 * keep these streams, and the next version of the stack reaches the two buffers through a
 * {@link Bridge} (JDK interfaces only, see {@link HandedInterceptedStream}) and has the router's
 * signals rebound to its own loop. This version touches nothing of it afterwards.
 */
final class InterceptedStream implements HostStream {
    static final int BUFFER_BYTES = 64 * 1024;

    private final EventLoop loop;
    private final Events events;
    private final int guestIp, guestPort, dstIp, dstPort;
    /** The guest's bytes for the router, in write mode. */
    private final ByteBuffer fromGuest = ByteBuffer.allocate(BUFFER_BYTES);
    /** The router's bytes for the guest, in write mode. */
    private final ByteBuffer toGuest = ByteBuffer.allocate(BUFFER_BYTES);
    private final InputStream input = new Input();
    private final OutputStream output = new Output();
    private final GuestConnection connection = new Connection();
    // guarded by this
    private boolean guestShut, routerShut, closed, reset;
    private int readTimeoutMillis;
    // guarded by the loop's lock
    private boolean readInterest = true, writeInterest;
    /** Once handed over: the next version's signals, run instead of this version's TCP events. */
    private volatile Runnable readableSignal, writableSignal;

    InterceptedStream(EventLoop loop, FlowKey k, Events events) {
        this.loop = loop;
        this.events = events;
        this.guestIp = k.guestIp4();
        this.guestPort = k.guestPort;
        this.dstIp = k.dstIp4();
        this.dstPort = k.dstPort;
    }

    // ---------------------------------------------------------------- TCP's side (loop lock held)

    @Override
    public boolean connecting() {
        return false;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        if (closed || reset) {
            throw new IOException("the interceptor closed the connection");
        }
        int n = Math.min(src.remaining(), fromGuest.remaining());
        int limit = src.limit();
        src.limit(src.position() + n);
        fromGuest.put(src);
        src.limit(limit);
        notifyAll();
        return n;
    }

    @Override
    public synchronized int read(ByteBuffer dst) throws IOException {
        if (reset) {
            throw new IOException("the interceptor reset the connection");
        }
        if (toGuest.position() == 0) {
            return routerShut || closed ? -1 : 0;
        }
        toGuest.flip();
        int n = Math.min(dst.remaining(), toGuest.remaining());
        int limit = toGuest.limit();
        toGuest.limit(toGuest.position() + n);
        dst.put(toGuest);
        toGuest.limit(limit);
        toGuest.compact();
        notifyAll();
        return n;
    }

    @Override
    public void readInterest(boolean on) {
        readInterest = on;
    }

    @Override
    public void writeInterest(boolean on) {
        writeInterest = on;
    }

    @Override
    public synchronized void shutdownOutput() {
        guestShut = true;
        notifyAll();
    }

    /** TCP ended the connection in order: the router reads what is left, then the end. */
    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }

    /** The guest reset the connection or the stack stops: the router's reads and writes fail. */
    @Override
    public synchronized void abort() {
        reset = true;
        notifyAll();
    }

    /**
     * The connection goes on in the next version through a {@link Bridge} to these buffers; the
     * router's threads keep their streams. A connection already reset has nothing to hand over.
     * Every object handed is an instance of a class of this version made here, while its bundle is
     * still resolved, so the next version can use them after this version's class loader is gone.
     */
    @Override
    public Object handOver() {
        synchronized (this) {
            if (reset) {
                return null;
            }
        }
        Bridge bridge = new Bridge();
        return HandedInterceptedStream.description(bridge, bridge.end, bridge.shutdown, bridge.rebind, readInterest,
                writeInterest);
    }

    /**
     * TCP's side of the buffers for the next version: {@code read} and {@code write} are {@link
     * #read} and {@link #write}; {@code close} resets the connection (what a discarded host side
     * gets); the orderly end, the guest's FIN and the rebinding of the router's signals are the
     * three objects beside it.
     */
    final class Bridge implements java.nio.channels.ByteChannel {
        final Runnable end = new End();
        final Runnable shutdown = new ShutdownOutput();
        final java.util.function.BiConsumer<Runnable, Runnable> rebind = new Rebind();

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return InterceptedStream.this.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return InterceptedStream.this.write(src);
        }

        /** Open until reset: an ended connection may still have bytes for the guest to read. */
        @Override
        public boolean isOpen() {
            synchronized (InterceptedStream.this) {
                return !reset;
            }
        }

        @Override
        public void close() {
            abort();
        }
    }

    private final class End implements Runnable {
        @Override
        public void run() {
            close();
        }
    }

    private final class ShutdownOutput implements Runnable {
        @Override
        public void run() {
            shutdownOutput();
        }
    }

    private final class Rebind implements java.util.function.BiConsumer<Runnable, Runnable> {
        @Override
        public void accept(Runnable readable, Runnable writable) {
            readableSignal = readable;
            writableSignal = writable;
        }
    }

    GuestConnection connection() {
        return connection;
    }

    // ---------------------------------------------------------------- the router's side

    private final class Connection implements GuestConnection {
        @Override
        public int guestIp() {
            return guestIp;
        }

        @Override
        public int guestPort() {
            return guestPort;
        }

        @Override
        public int destinationIp() {
            return dstIp;
        }

        @Override
        public int destinationPort() {
            return dstPort;
        }

        @Override
        public InputStream input() {
            return input;
        }

        @Override
        public OutputStream output() {
            return output;
        }

        @Override
        public void readTimeout(int millis) {
            if (millis < 0) {
                throw new IllegalArgumentException("negative timeout: " + millis);
            }
            synchronized (InterceptedStream.this) {
                readTimeoutMillis = millis;
            }
        }

        @Override
        public void shutdownOutput() {
            synchronized (InterceptedStream.this) {
                if (routerShut || reset) {
                    return;
                }
                routerShut = true;
            }
            hostReadable();
        }

        @Override
        public void close() {
            synchronized (InterceptedStream.this) {
                if (closed || reset) {
                    return;
                }
                closed = true;
                routerShut = true;
                InterceptedStream.this.notifyAll();
            }
            hostReadable();
        }

        @Override
        public void abort() {
            synchronized (InterceptedStream.this) {
                if (reset) {
                    return;
                }
                reset = true;
                InterceptedStream.this.notifyAll();
            }
            hostReadable();
        }

        @Override
        public String toString() {
            return "guest connection to " + (dstIp >>> 24) + "." + (dstIp >>> 16 & 255) + "." + (dstIp >>> 8 & 255) + "."
                    + (dstIp & 255) + ":" + dstPort;
        }
    }

    /** Tells TCP there are bytes (or the end) to read, unless the loop is gone. */
    private void hostReadable() {
        Runnable next = readableSignal;
        if (next != null) {
            next.run();
            return;
        }
        loop.lock();
        try {
            if (readInterest) {
                events.readable();
            }
        } finally {
            loop.unlock();
        }
    }

    private void hostWritable() {
        Runnable next = writableSignal;
        if (next != null) {
            next.run();
            return;
        }
        loop.lock();
        try {
            if (writeInterest) {
                events.writable();
            }
        } finally {
            loop.unlock();
        }
    }

    private final class Input extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 255;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            int n;
            synchronized (InterceptedStream.this) {
                long timeout = readTimeoutMillis;
                long deadline = System.nanoTime() + timeout * 1_000_000L;
                while (fromGuest.position() == 0 && !guestShut && !closed && !reset) {
                    long left = timeout == 0 ? 0 : (deadline - System.nanoTime()) / 1_000_000L;
                    if (timeout != 0 && left <= 0) {
                        throw new SocketTimeoutException("the guest sent nothing for " + timeout + " ms");
                    }
                    waitFor(left);
                }
                if (reset) {
                    throw new IOException("connection reset");
                }
                if (fromGuest.position() == 0) {
                    return -1;
                }
                fromGuest.flip();
                n = Math.min(len, fromGuest.remaining());
                fromGuest.get(b, off, n);
                fromGuest.compact();
            }
            hostWritable();
            return n;
        }

        @Override
        public int available() {
            synchronized (InterceptedStream.this) {
                return fromGuest.position();
            }
        }
    }

    private final class Output extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            while (len > 0) {
                int n;
                synchronized (InterceptedStream.this) {
                    while (!toGuest.hasRemaining() && !closed && !reset) {
                        waitFor(0);
                    }
                    if (reset) {
                        throw new IOException("connection reset");
                    }
                    if (closed || routerShut) {
                        throw new IOException("the connection's output is shut");
                    }
                    n = Math.min(len, toGuest.remaining());
                    toGuest.put(b, off, n);
                }
                off += n;
                len -= n;
                hostReadable();
            }
        }
    }

    private void waitFor(long millis) throws InterruptedIOException {
        try {
            wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }
}
