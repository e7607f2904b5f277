package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.slipway.networking.stack.link.FrameTap;

/**
 * Writes the switch's frames to a pcap file (the classic format: microsecond timestamps, Ethernet
 * link type), each truncated to the snap length while its record keeps the frame's real length, as
 * tcpdump's do. Written here rather than with pcap4j, whose dumper sets a record's original length
 * to the bytes kept. Frames go through one buffer: nothing is allocated per frame.
 */
final class PcapCapture implements FrameTap, AutoCloseable {
    static final int MAGIC_MICROSECONDS = 0xa1b2c3d4;
    static final int LINKTYPE_ETHERNET = 1;
    private static final int RECORD_HEADER = 16;
    private final FileChannel file;
    private final int snaplen;
    private final ByteBuffer buffer;
    private final long startMicros = System.currentTimeMillis() * 1000L;
    private final long startNanos = System.nanoTime();
    private long frames;
    private long failures;
    private IOException firstFailure;

    PcapCapture(Path path, int snaplen) throws IOException {
        if (snaplen < 1) {
            throw new IllegalArgumentException("the snap length must be positive, not " + snaplen);
        }
        this.snaplen = snaplen;
        this.buffer = ByteBuffer.allocateDirect(Math.max(1 << 16, 2 * (RECORD_HEADER + snaplen))).order(ByteOrder.nativeOrder());
        try {
            file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot write " + path + ": " + e.getMessage(), e);
        }
        buffer.putInt(MAGIC_MICROSECONDS).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(snaplen)
                .putInt(LINKTYPE_ETHERNET);
        flush();
    }

    @Override
    public void frame(ByteBuffer frame, long nanoTime) {
        int length = frame.remaining();
        int kept = Math.min(length, snaplen);
        if (buffer.remaining() < RECORD_HEADER + kept) {
            flush();
        }
        long micros = startMicros + (nanoTime - startNanos) / 1000L;
        buffer.putInt((int) (micros / 1_000_000L)).putInt((int) (micros % 1_000_000L)).putInt(kept).putInt(length);
        buffer.put(buffer.position(), frame, frame.position(), kept);
        buffer.position(buffer.position() + kept);
        frames++;
    }

    private void flush() {
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                file.write(buffer);
            }
        } catch (IOException e) {
            failures++;
            if (firstFailure == null) {
                firstFailure = e;
            }
        }
        buffer.clear();
    }

    long frames() {
        return frames;
    }

    long failures() {
        return failures;
    }

    /** Why writing failed first, or null when it never did. */
    IOException firstFailure() {
        return firstFailure;
    }

    @Override
    public void close() {
        flush();
        try {
            file.close();
        } catch (IOException e) {
            failures++;
        }
    }
}
