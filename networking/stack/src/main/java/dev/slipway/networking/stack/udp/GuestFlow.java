package dev.slipway.networking.stack.udp;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestDatagramFlow;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.FlowKey;

/**
 * A flow we opened towards a guest port (a published UDP port); the guest answers to {@code key.dst}.
 *
 * <p>Across a live update the flow's owner keeps this object: the next version of the stack takes
 * the flow (same gateway port, same receiver) and hands its own flow to {@link #handOn}, after which
 * this object forwards to it. Only the object the owner holds is rebound, so updates in a row
 * never build a chain.
 */
public final class GuestFlow implements GuestDatagramFlow {
    private final Udp udp;
    final FlowKey key;
    final DatagramReceiver replies;
    /** Where a next version's flow is given to the object the owner holds: this flow's own, or the one it was handed. */
    final Consumer<Object> handOn;
    boolean closed;
    /** The next version's flow, once this one was handed on. */
    private volatile GuestDatagramFlow next;

    GuestFlow(Udp udp, FlowKey key, DatagramReceiver replies) {
        this(udp, key, replies, null);
    }

    GuestFlow(Udp udp, FlowKey key, DatagramReceiver replies, Consumer<Object> handedOn) {
        this.udp = udp;
        this.key = key;
        this.replies = replies;
        this.handOn = handedOn != null ? handedOn : new HandOn();
    }

    @Override
    public void send(ByteBuffer payload) {
        GuestDatagramFlow n = next;
        if (n != null) {
            n.send(payload);
            return;
        }
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
    public boolean isOpen() {
        GuestDatagramFlow n = next;
        if (n != null) {
            return n.isOpen();
        }
        udp.loop.lock();
        try {
            return !closed;
        } finally {
            udp.loop.unlock();
        }
    }

    @Override
    public void close() {
        GuestDatagramFlow n = next;
        if (n != null) {
            n.close();
            return;
        }
        udp.loop.lock();
        try {
            closed = true;
            udp.guestFlows.remove(key);
        } finally {
            udp.loop.unlock();
        }
    }

    /** Takes the next version's flow; a class of its own, made with the flow, so it runs after this version's bundle is gone. */
    private final class HandOn implements Consumer<Object> {
        @Override
        public void accept(Object nextFlow) {
            if (nextFlow instanceof GuestDatagramFlow g) {
                next = g;
            }
        }
    }
}
