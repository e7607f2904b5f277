package dev.slipway.networking.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.slipway.networking.stack.transport.FrameReceiver;
import dev.slipway.networking.stack.transport.Transport;

/**
 * The guest's end of a benchmarked stack: the benchmark thread hands frames straight to the
 * stack's receiver (no reader thread in between), and the frames the stack sends are counted and
 * their TCP sequence and acknowledgement numbers noted, without copying them.
 */
final class GuestLink implements Transport {
    private static final int TCP = 14 + 20;

    private final boolean segmentationOffload;
    private final CountDownLatch attached = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile FrameReceiver receiver;

    // Written with the stack's lock held, by whichever of its threads sends. Plain fields, as a
    // transport's own state would be: the benchmark thread reads them after handing a frame in,
    // which took and released that lock.
    long framesSent;
    long bytesSent;
    /** The acknowledgement number of the last TCP segment sent to the guest. */
    int lastAcknowledgement;
    /** Sequence number just past the furthest TCP payload sent to the guest. */
    int sentUpTo;
    /** The stack's initial sequence number, from the last SYN-ACK it sent. */
    int synAckSequence;
    /** Set last when a SYN-ACK is sent, so the setup can wait for it. */
    volatile boolean synAckSeen;

    GuestLink(boolean segmentationOffload) {
        this.segmentationOffload = segmentationOffload;
    }

    /** The stack's receiver once it has attached this link. */
    FrameReceiver awaitReceiver() throws InterruptedException {
        if (!attached.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the stack did not attach the link");
        }
        return receiver;
    }

    @Override
    public String name() {
        return "benchmark guest";
    }

    @Override
    public void run(FrameReceiver frameReceiver) {
        receiver = frameReceiver;
        attached.countDown();
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean segmentationOffload() {
        return segmentationOffload;
    }

    @Override
    public void send(ByteBuffer frame) {
        send(frame, 0);
    }

    @Override
    public void send(ByteBuffer frame, int gsoSize) {
        note(frame, frame.remaining());
    }

    /** Takes frames in two pieces exactly when the tap does: when it offloads segmentation. */
    @Override
    public boolean gathersFrames() {
        return segmentationOffload;
    }

    @Override
    public void send(ByteBuffer headers, ByteBuffer payload, int gsoSize) {
        note(headers, headers.remaining() + payload.remaining());
    }

    private void note(ByteBuffer headers, int length) {
        int p = headers.position();
        framesSent++;
        bytesSent += length;
        if (length < TCP + 20 || headers.getShort(p + 12) != 0x0800 || headers.get(p + 14 + 9) != 6) {
            return;
        }
        int tcp = p + TCP;
        int seq = headers.getInt(tcp + 4);
        int flags = headers.get(tcp + 13) & 0x3f;
        int payload = length - TCP - (headers.get(tcp + 12) >> 4 & 15) * 4;
        lastAcknowledgement = headers.getInt(tcp + 8);
        if ((flags & 0x12) == 0x12) {
            synAckSequence = seq;
            sentUpTo = seq + 1;
            synAckSeen = true;
        }
        if (payload > 0 && seq + payload - sentUpTo > 0) {
            sentUpTo = seq + payload;
        }
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
    }
}
