package dev.slipway.networking.stack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.slipway.networking.stack.transport.FrameReceiver;
import dev.slipway.networking.stack.transport.Transport;

/** A transport inside the test: frames in through {@link #inject}, frames out collected in a queue. */
public final class MemoryTransport implements Transport {
    private static final ByteBuffer STOP = ByteBuffer.allocate(0);
    private final BlockingQueue<ByteBuffer> toStack = new LinkedBlockingQueue<>();
    public final BlockingQueue<ByteBuffer> fromStack = new LinkedBlockingQueue<>();
    private final ByteBuffer frame = ByteBuffer.allocateDirect(65536 + 64);
    private final boolean offloads;
    /** Frames the stack handed over in two pieces. */
    public final AtomicInteger gatheredFrames = new AtomicInteger();

    /** A link that carries whole MTU-sized frames, like a QEMU stream. */
    public MemoryTransport() {
        this(false);
    }

    private MemoryTransport(boolean offloads) {
        this.offloads = offloads;
    }

    /** A link like the tap: segmentation and checksum offload, frames taken in two pieces. */
    public static MemoryTransport offloading() {
        return new MemoryTransport(true);
    }

    @Override
    public boolean segmentationOffload() {
        return offloads;
    }

    @Override
    public boolean gathersFrames() {
        return offloads;
    }

    @Override
    public void send(ByteBuffer headers, ByteBuffer payload, int gsoSize) {
        ByteBuffer joined = ByteBuffer.allocateDirect(headers.remaining() + payload.remaining());
        joined.put(0, headers, headers.position(), headers.remaining());
        joined.put(headers.remaining(), payload, payload.position(), payload.remaining());
        gatheredFrames.incrementAndGet();
        fromStack.add(joined);
    }

    @Override
    public String name() {
        return "memory";
    }

    public void inject(ByteBuffer f) {
        toStack.add(f);
    }

    /** The next frame the stack sent, or null after the timeout. */
    public ByteBuffer next(long millis) throws InterruptedException {
        return fromStack.poll(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run(FrameReceiver receiver) throws IOException {
        running = true;
        detached = false;
        try {
            while (true) {
                ByteBuffer f = toStack.poll(50, TimeUnit.MILLISECONDS);
                if (f == null) {
                    receiver.endOfBatch();
                    continue;
                }
                if (f == STOP) {
                    return;
                }
                if (f == DETACH) {
                    running = false;
                    readerEnded.release();
                    return;
                }
                int n = f.limit();
                frame.clear();
                frame.put(0, f, 0, n);
                frame.limit(n);
                receiver.frame(frame);
                if (toStack.isEmpty()) {
                    receiver.endOfBatch();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void send(ByteBuffer f) {
        ByteBuffer copy = ByteBuffer.allocateDirect(f.remaining());
        copy.put(0, f, f.position(), f.remaining());
        fromStack.add(copy);
    }

    /** Set by {@link #detach()} until the next stack runs the link: the old one's close leaves it alone, as a tap's does. */
    private volatile boolean detached;

    @Override
    public void close() {
        if (!detached) {
            toStack.add(STOP);
        }
    }

    /** The description a detached memory link hands over: the link itself, which the next stack attaches again. */
    public static final String SELF = "memory";
    private final java.util.concurrent.Semaphore readerEnded = new java.util.concurrent.Semaphore(0);
    private volatile boolean running;

    /** Stops the reader after what was injected so far (later frames wait for the next stack) and leaves the link to it. */
    @Override
    public java.util.Map<String, Object> detach() {
        detached = true;
        toStack.add(DETACH);
        try {
            if (running && !readerEnded.tryAcquire(2, TimeUnit.SECONDS)) {
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return java.util.Map.of(SELF, this);
    }

    private static final ByteBuffer DETACH = ByteBuffer.allocate(0);
}
