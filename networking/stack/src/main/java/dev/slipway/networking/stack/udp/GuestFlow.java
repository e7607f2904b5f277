package dev.slipway.networking.stack.udp;

import java.nio.ByteBuffer;

import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestDatagramFlow;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.FlowKey;

/** A flow we opened towards a guest port (a published UDP port); the guest answers to {@code key.dst}. */
public final class GuestFlow implements GuestDatagramFlow {
    private final Udp udp;
    final FlowKey key;
    final DatagramReceiver replies;
    boolean closed;

    GuestFlow(Udp udp, FlowKey key, DatagramReceiver replies) {
        this.udp = udp;
        this.key = key;
        this.replies = replies;
    }

    @Override
    public void send(ByteBuffer payload) {
        udp.loop.lock();
        try {
            if (closed) {
                return;
            }
            if (payload.remaining() > Udp.MAX_DATAGRAM) {
                udp.stats.drop(Drop.OVERSIZED);
                return;
            }
            udp.send(key, payload);
        } finally {
            udp.loop.unlock();
        }
    }

    @Override
    public void close() {
        udp.loop.lock();
        try {
            closed = true;
            udp.guestFlows.remove(key);
        } finally {
            udp.loop.unlock();
        }
    }
}
