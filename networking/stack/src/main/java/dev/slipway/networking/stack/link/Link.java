package dev.slipway.networking.stack.link;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.transport.FrameReceiver;
import dev.slipway.networking.stack.transport.LinkFullException;
import dev.slipway.networking.stack.transport.Transport;

/** One guest on the switch: a transport and the thread that reads it. */
public final class Link implements FrameReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(Link.class);
    private final Switch owner;
    private final Transport transport;
    private volatile Thread thread;
    private volatile boolean closing;
    private long sendErrorsLogged;
    /** The largest frame a link reads (a 64 KiB offloaded packet and its headers). */
    static final int MAX_FRAME = 70_000;
    /** How many bytes of frames a link keeps for the next version of the stack; beyond, frames are dropped (TCP sends them again). */
    static final long MAX_HELD_BYTES = 32L << 20;
    /** Frames read while the stack is handed over, each with a first byte saying whether its checksum is pending. */
    private final java.util.ArrayList<byte[]> held = new java.util.ArrayList<>();
    private long heldBytes;

    Link(Switch owner, Transport transport) {
        this.owner = owner;
        this.transport = transport;
    }

    public String name() {
        return transport.name();
    }

    boolean segmentationOffload() {
        return transport.segmentationOffload();
    }

    boolean gathersFrames() {
        return transport.gathersFrames();
    }

    void start() {
        Thread reader = new Thread(this::run, "slipway-net-" + transport.name());
        reader.setDaemon(true);
        thread = reader;
        reader.start();
    }

    /** Sends one frame (position to limit); false when the link's queue is full. Called with the lock held. */
    boolean send(ByteBuffer frame, int gsoSize) {
        if (gsoSize > 0 && !transport.segmentationOffload()) {
            owner.stats().drop(Drop.OVERSIZED);
            return true;
        }
        try {
            transport.send(frame, gsoSize);
        } catch (LinkFullException e) {
            owner.stats().drop(Drop.LINK_FULL);
            return false;
        } catch (IOException | RuntimeException e) {
            failedSend(e);
        }
        return true;
    }

    /** Sends a frame in two pieces (see {@link Transport#send(ByteBuffer, ByteBuffer, int)}). */
    boolean send(ByteBuffer headers, ByteBuffer payload, int gsoSize) {
        if (gsoSize > 0 && !transport.segmentationOffload()) {
            owner.stats().drop(Drop.OVERSIZED);
            return true;
        }
        try {
            transport.send(headers, payload, gsoSize);
        } catch (LinkFullException e) {
            owner.stats().drop(Drop.LINK_FULL);
            return false;
        } catch (IOException | RuntimeException e) {
            failedSend(e);
        }
        return true;
    }

    private void failedSend(Exception e) {
        owner.stats().drop(Drop.TRANSPORT_ERROR);
        if (sendErrorsLogged++ < 5) {
            LOG.warn("cannot send a frame to {}: {}", name(), e.toString());
        }
    }

    @Override
    public void frame(ByteBuffer frame) {
        owner.receive(this, frame, false);
    }

    @Override
    public void framePartialChecksum(ByteBuffer frame) {
        owner.receive(this, frame, true);
    }

    @Override
    public void endOfBatch() {
        owner.endOfBatch();
    }

    private void run() {
        try {
            transport.run(this);
            if (!closing) {
                LOG.info("transport {} ended (the guest side closed it or its device went away)", name());
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                LOG.warn("transport {} failed", name(), e);
            }
        } finally {
            owner.detach(this);
            closeTransport();
        }
    }

    /** Keeps a frame for the next version of the stack (see {@link Switch#hold}); lock held. */
    void hold(ByteBuffer frame, boolean checksumPending) {
        int len = frame.limit();
        if (heldBytes + len > MAX_HELD_BYTES) {
            owner.stats().drop(Drop.LINK_FULL);
            return;
        }
        byte[] copy = new byte[len + 1];
        copy[0] = (byte) (checksumPending ? 1 : 0);
        frame.get(0, copy, 1, len);
        held.add(copy);
        heldBytes += len;
    }

    /**
     * Ends the reader but leaves the transport open for the next version of the stack; returns its
     * description ({@link Transport#detach()}) with the frames held for that version under
     * {@link dev.slipway.networking.stack.transport.LinkHandover#HELD}, or {@code null} when it cannot be handed over.
     */
    public java.util.Map<String, Object> detach() {
        closing = true;
        java.util.Map<String, Object> description = transport.detach();
        if (description == null) {
            return null;
        }
        java.util.Map<String, Object> withHeld = new java.util.HashMap<>(description);
        owner.lockForHandover();
        try {
            withHeld.put(dev.slipway.networking.stack.transport.LinkHandover.HELD, java.util.List.copyOf(held));
            held.clear();
            heldBytes = 0;
        } finally {
            owner.unlockForHandover();
        }
        return java.util.Map.copyOf(withHeld);
    }

    /** Closes the transport, which ends its reader. */
    public void close() {
        closing = true;
        closeTransport();
    }

    private void closeTransport() {
        try {
            transport.close();
        } catch (IOException e) {
            LOG.debug("closing {}", name(), e);
        }
    }

    /** Waits (up to two seconds) for the reader thread to end. */
    public void join() {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
