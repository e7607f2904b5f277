package dev.slipway.networking.stack.tcp;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Fixed-size direct buffers for per-connection data, reused so that steady traffic allocates
 * nothing. Used with the stack's lock held.
 */
final class BufferPool {
    private final int size;
    private final int maxIdle;
    private final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
    private long inUse;

    BufferPool(int size, int maxIdle) {
        this.size = size;
        this.maxIdle = maxIdle;
    }

    ByteBuffer take() {
        ByteBuffer b = idle.pollFirst();
        if (b == null) {
            b = ByteBuffer.allocateDirect(size);
        }
        inUse++;
        return b.clear();
    }

    void give(ByteBuffer b) {
        inUse--;
        if (idle.size() < maxIdle) {
            idle.addFirst(b);
        }
    }

    int bufferSize() {
        return size;
    }

    long inUse() {
        return inUse;
    }

    int idle() {
        return idle.size();
    }
}
