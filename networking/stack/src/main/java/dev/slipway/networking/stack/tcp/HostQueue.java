package dev.slipway.networking.stack.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.slipway.networking.stack.host.HostStream;

/**
 * The guest's bytes the host endpoint has not taken yet. Empty (and without a buffer) in the
 * common case, where the guest's payload goes from its frame straight into the host.
 */
final class HostQueue {
    private final TcpBuffers buffers;
    private ByteBuffer buffer;
    int length;

    HostQueue(TcpBuffers buffers) {
        this.buffers = buffers;
    }

    /** Room the queue has left: what the window may offer. */
    int free() {
        return buffers.limit - length;
    }

    /** Queues {@code n} bytes of {@code f} from {@code offset}, moving to a large buffer when a small one is full. */
    void append(ByteBuffer f, int offset, int n) {
        int needed = length + n;
        if (buffer == null) {
            buffer = buffers.take(needed);
            length = 0;
        } else if (buffer.capacity() < needed) {
            ByteBuffer bigger = buffers.takeLarge();
            bigger.put(0, buffer, 0, length);
            buffers.give(buffer);
            buffer = bigger;
        }
        buffer.limit(buffer.capacity());
        buffer.put(length, f, offset, n);
        length += n;
    }

    /** Writes what it can to the host; returns how many bytes went. */
    int flush(HostStream host) throws IOException {
        int before = length;
        buffer.limit(before).position(0);
        host.write(buffer);
        if (buffer.hasRemaining()) {
            buffer.compact();
            length = buffer.position();
        } else {
            length = 0;
            release();
        }
        return before - length;
    }

    /** The queued bytes, for the next version of the stack. */
    byte[] copy() {
        byte[] b = new byte[length];
        if (length > 0) {
            buffer.limit(buffer.capacity());
            buffer.get(0, b);
        }
        return b;
    }

    void release() {
        if (buffer != null) {
            buffers.give(buffer);
            buffer = null;
        }
        length = 0;
    }
}
