package dev.slipway.networking.stack.tcp;

import java.nio.ByteBuffer;

/**
 * The connections' data buffers: they start small (most connections carry little) and move to a
 * window-sized one when a side falls behind; pooled, so steady traffic allocates nothing.
 */
final class TcpBuffers {
    private static final int SMALL_BUFFER = 16 * 1024;
    private final BufferPool small;
    private final BufferPool large;
    final int limit;

    TcpBuffers(int limit) {
        this.limit = limit;
        this.small = new BufferPool(Math.min(SMALL_BUFFER, limit), 1024);
        this.large = new BufferPool(limit, 64);
    }

    ByteBuffer take(int needed) {
        return needed <= small.bufferSize() ? small.take() : large.take();
    }

    ByteBuffer takeLarge() {
        return large.take();
    }

    void give(ByteBuffer b) {
        if (b.capacity() == large.bufferSize()) {
            large.give(b);
        } else {
            small.give(b);
        }
    }

    long inUse() {
        return small.inUse() + large.inUse();
    }
}
