package dev.slipway.networking.stack.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.slipway.networking.stack.host.HostStream;

/**
 * The host's bytes on their way to the guest: a ring from the oldest unacknowledged byte
 * ({@link #seq}) on. Its buffer is taken from the pool when bytes arrive, grows to the window size
 * when the guest falls behind, and goes back when everything is acknowledged.
 */
final class SendRing {
    /** What {@link #fill} found. */
    enum Fill { FULL, DRAINED, END_OF_STREAM }

    private final TcpBuffers buffers;
    ByteBuffer buffer;
    int start;
    int length;
    /** The sequence number of the ring's first byte. */
    int seq;

    SendRing(TcpBuffers buffers, int firstSeq) {
        this.buffers = buffers;
        this.seq = firstSeq;
    }

    /** The sequence number after the ring's last byte. */
    int end() {
        return seq + length;
    }

    /** Where the byte with sequence number {@code s} lies in {@link #buffer}. */
    int offsetOf(int s) {
        return (start + (s - seq)) % buffer.capacity();
    }

    /** Reads from the host until the ring is full at the window size, the host has nothing more, or its stream ends. */
    Fill fill(HostStream host) throws IOException {
        while (true) {
            if (buffer == null) {
                buffer = buffers.take(0);
                start = 0;
            }
            int capacity = buffer.capacity();
            int free = capacity - length;
            if (free == 0) {
                if (capacity < buffers.limit) {
                    grow();
                    continue;
                }
                return Fill.FULL;
            }
            int at = (start + length) % capacity;
            int chunk = Math.min(free, capacity - at);
            buffer.limit(at + chunk).position(at);
            int n = host.read(buffer);
            if (n < 0) {
                return Fill.END_OF_STREAM;
            }
            length += n;
            if (n < chunk) {
                return Fill.DRAINED;
            }
        }
    }

    /** Drops the bytes the guest acknowledged up to {@code ack}; returns how many. */
    int acknowledge(int ack) {
        int freed = Math.min(ack - seq, length);
        if (freed > 0) {
            start = (start + freed) % buffer.capacity();
            length -= freed;
            seq += freed;
        }
        return freed;
    }

    /** Gives the buffer back while the ring is empty. */
    void releaseIfEmpty() {
        if (length == 0 && buffer != null) {
            release();
        }
    }

    void release() {
        if (buffer != null) {
            buffers.give(buffer);
            buffer = null;
            start = 0;
        }
    }

    /** The ring's bytes from {@link #seq} on, for the next version of the stack. */
    byte[] copy() {
        byte[] b = new byte[length];
        if (length > 0) {
            buffer.limit(buffer.capacity()); // fill() leaves the limit at its last read; absolute gets check against it
            int first = Math.min(length, buffer.capacity() - start);
            buffer.get(start, b, 0, first);
            buffer.get(0, b, first, length - first);
        }
        return b;
    }

    /** Starts from bytes a previous version of the stack held, the first with sequence number {@code firstSeq}. */
    void restore(byte[] bytes, int firstSeq) {
        release();
        seq = firstSeq;
        length = bytes.length;
        if (length > 0) {
            buffer = buffers.take(length);
            buffer.put(0, bytes);
        }
    }

    /** Moves the ring into a large buffer, its bytes from index 0. */
    private void grow() {
        ByteBuffer bigger = buffers.takeLarge();
        int capacity = buffer.capacity();
        int first = Math.min(length, capacity - start);
        buffer.limit(capacity);
        bigger.put(0, buffer, start, first);
        if (first < length) {
            bigger.put(first, buffer, 0, length - first);
        }
        buffers.give(buffer);
        buffer = bigger;
        start = 0;
    }
}
