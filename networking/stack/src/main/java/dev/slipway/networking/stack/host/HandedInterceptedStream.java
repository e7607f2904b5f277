package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.Map;
import java.util.function.BiConsumer;

import dev.slipway.networking.stack.loop.EventLoop;

/**
 * An interceptor's connection that a previous version of the stack handed over: the router's
 * threads still hold the streams of the version that accepted the connection, and this version
 * reaches the same two buffers through JDK interfaces only ({@link InterceptedStream}'s bridge).
 * The router's signals (bytes or space for TCP) are rebound to this version's loop when the
 * connection is adopted, and handed on unchanged to the version after this one.
 *
 * <p>Threading as {@link HostStream}: TCP's calls come with the loop's lock held; the router's
 * signals arrive on the router's threads and take the loop's lock here.
 */
final class HandedInterceptedStream implements HostStream {
    static final String BRIDGE = "interceptedBridge", END = "interceptedEnd", SHUTDOWN_OUTPUT = "interceptedShutdownOutput",
            REBIND = "interceptedRebind", READ_INTEREST = "readInterest", WRITE_INTEREST = "writeInterest";

    private final EventLoop loop;
    private final Events events;
    private final ByteChannel bridge;
    private final Runnable end;
    private final Runnable shutdown;
    private final BiConsumer<Runnable, Runnable> rebind;
    // guarded by the loop's lock
    private boolean readInterest, writeInterest;

    private HandedInterceptedStream(EventLoop loop, Events events, ByteChannel bridge, Runnable end, Runnable shutdown,
            BiConsumer<Runnable, Runnable> rebind) {
        this.loop = loop;
        this.events = events;
        this.bridge = bridge;
        this.end = end;
        this.shutdown = shutdown;
        this.rebind = rebind;
    }

    /** What {@link HostConnector#adopt} reads back; the same objects go from version to version. */
    static Map<String, Object> description(ByteChannel bridge, Runnable end, Runnable shutdown,
            BiConsumer<Runnable, Runnable> rebind, boolean readInterest, boolean writeInterest) {
        return Map.of(BRIDGE, bridge, END, end, SHUTDOWN_OUTPUT, shutdown, REBIND, rebind, READ_INTEREST, readInterest,
                WRITE_INTEREST, writeInterest);
    }

    static boolean describes(Map<?, ?> handed) {
        return handed.containsKey(BRIDGE);
    }

    /** Goes on with an interceptor's connection; the router's signals come to this loop from now on. */
    @SuppressWarnings("unchecked")
    static HandedInterceptedStream adopt(EventLoop loop, Map<?, ?> handed, Events events) throws IOException {
        if (!(handed.get(BRIDGE) instanceof ByteChannel bridge) || !(handed.get(END) instanceof Runnable end)
                || !(handed.get(SHUTDOWN_OUTPUT) instanceof Runnable shutdown)
                || !(handed.get(REBIND) instanceof BiConsumer<?, ?> rebind)
                || !(handed.get(READ_INTEREST) instanceof Boolean readInterest)
                || !(handed.get(WRITE_INTEREST) instanceof Boolean writeInterest)) {
            throw new IOException("not an intercepted connection's description: " + handed.keySet());
        }
        if (!bridge.isOpen()) {
            throw new IOException("the interceptor reset the connection during the update");
        }
        HandedInterceptedStream s = new HandedInterceptedStream(loop, events, bridge, end, shutdown,
                (BiConsumer<Runnable, Runnable>) rebind);
        s.readInterest = readInterest;
        s.writeInterest = writeInterest;
        s.rebind.accept(s.new Signal(true), s.new Signal(false));
        return s;
    }

    /** A signal from the router's threads: taken to TCP under this loop's lock, when TCP waits for it. */
    private final class Signal implements Runnable {
        private final boolean readable;

        Signal(boolean readable) {
            this.readable = readable;
        }

        @Override
        public void run() {
            loop.lock();
            try {
                if (readable && readInterest) {
                    events.readable();
                } else if (!readable && writeInterest) {
                    events.writable();
                }
            } finally {
                loop.unlock();
            }
        }
    }

    @Override
    public boolean connecting() {
        return false;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return bridge.write(src);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return bridge.read(dst);
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
    public void shutdownOutput() {
        shutdown.run();
    }

    @Override
    public void close() {
        end.run();
    }

    @Override
    public void abort() {
        try {
            bridge.close();
        } catch (IOException e) {
            // the bridge's close does not fail
        }
    }

    @Override
    public Object handOver() {
        if (!bridge.isOpen()) {
            return null;
        }
        return description(bridge, end, shutdown, rebind, readInterest, writeInterest);
    }
}
