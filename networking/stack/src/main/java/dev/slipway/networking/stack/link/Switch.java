package dev.slipway.networking.stack.link;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.transport.Transport;

/**
 * The virtual switch: guest links, MAC learning and flooding, the capture hook, and the gateway's
 * own port ({@link Station}). Frames are switched on the link's reader thread with the loop's lock
 * held; what is sent to a guest goes out under the same lock.
 */
public final class Switch implements FrameOutput {
    private static final int MAX_MAC_ENTRIES = 256;
    private static final Logger LOG = LoggerFactory.getLogger(Switch.class);

    private final EventLoop loop;
    private final Stats stats;
    private final long gatewayMac;
    private final Station station;
    private final long[] macs = new long[MAX_MAC_ENTRIES];
    private final Link[] macLinks = new Link[MAX_MAC_ENTRIES];
    private int macCount;
    private final List<Link> links = new ArrayList<>();
    private volatile FrameTap capture;
    /** While the stack is handed over: the frames it still answers; every other frame waits in its link. Lock held. */
    private java.util.function.Predicate<ByteBuffer> holding;
    private long errorsLogged;

    public Switch(EventLoop loop, Stats stats, long gatewayMac, Station station) {
        this.loop = loop;
        this.stats = stats;
        this.gatewayMac = gatewayMac;
        this.station = station;
    }

    /** Starts (or with {@code null} stops) copying every switched frame to {@code tap}; lock held. */
    public void capture(FrameTap tap) {
        capture = tap;
    }

    public boolean capturing() {
        return capture != null;
    }

    /** Plugs a guest in: a reader thread runs the transport until it ends, then the link leaves the switch. */
    public void attach(Transport transport) {
        attach(transport, List.of());
    }

    /**
     * Plugs in a link a previous version of the stack read last: the frames it held for this
     * version ({@link Link#hold}) are switched first, in order, then the reader starts.
     */
    public void attach(Transport transport, List<byte[]> heldFrames) {
        Link link = new Link(this, transport);
        loop.lock();
        try {
            links.add(link);
            if (!heldFrames.isEmpty()) {
                ByteBuffer replay = ByteBuffer.allocateDirect(Link.MAX_FRAME);
                for (byte[] held : heldFrames) {
                    if (held.length < 2 || held.length - 1 > replay.capacity()) {
                        stats.drop(Drop.TRUNCATED);
                        continue;
                    }
                    replay.clear();
                    replay.put(held, 1, held.length - 1).flip();
                    switchFrame(link, replay, held[0] != 0);
                }
                station.endOfBatch();
            }
        } finally {
            loop.unlock();
        }
        link.start();
    }

    /**
     * From now on only frames {@code passes} accepts are switched (stateless answers such as ARP
     * and DNS to the gateway, which the stack gives while it is handed over); every other frame is
     * kept by its link for the next version. Lock held.
     */
    public void hold(java.util.function.Predicate<ByteBuffer> passes) {
        holding = passes;
    }

    /** The attached links' names; lock held. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        for (Link l : links) {
            names.add(l.name());
        }
        return names;
    }

    /** The attached links, for closing; lock held. */
    public List<Link> links() {
        return new ArrayList<>(links);
    }

    void receive(Link from, ByteBuffer frame, boolean checksumPending) {
        loop.lockQuickly();
        loop.deferWakeups(true);
        try {
            java.util.function.Predicate<ByteBuffer> held = holding;
            if (held != null && !held.test(frame)) {
                from.hold(frame, checksumPending);
                return;
            }
            switchFrame(from, frame, checksumPending);
        } catch (RuntimeException e) {
            stats.drop(Drop.TRANSPORT_ERROR);
            if (errorsLogged++ < 20) {
                LOG.warn("frame from {} dropped after an internal error", from.name(), e);
            }
        } finally {
            loop.deferWakeups(false);
            loop.unlock();
        }
    }

    void endOfBatch() {
        loop.lockQuickly();
        try {
            station.endOfBatch();
        } catch (RuntimeException e) {
            if (errorsLogged++ < 20) {
                LOG.warn("flushing connections failed", e);
            }
        } finally {
            loop.flushWakeups();
            loop.unlock();
        }
    }

    void detach(Link link) {
        loop.lock();
        try {
            links.remove(link);
            forget(link);
        } finally {
            loop.unlock();
        }
    }

    Stats stats() {
        return stats;
    }

    void lockForHandover() {
        loop.lock();
    }

    void unlockForHandover() {
        loop.unlock();
    }

    private void switchFrame(Link from, ByteBuffer f, boolean checksumPending) {
        int len = f.limit();
        stats.received(len);
        if (len < Ethernet.HLEN) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        FrameTap c = capture;
        if (c != null) {
            f.position(0);
            c.frame(f, System.nanoTime());
            f.position(0).limit(len);
        }
        long dst = Ethernet.getMac(f, 0);
        long src = Ethernet.getMac(f, 6);
        if (!Mac.isGroup(src)) {
            learn(src, from);
        }
        if (dst == gatewayMac) {
            station.frame(f, len, checksumPending, from.segmentationOffload());
        } else if (Mac.isGroup(dst)) {
            flood(from, f, len);
            station.frame(f, len, checksumPending, from.segmentationOffload());
        } else {
            Link to = lookup(dst);
            if (to == null) {
                if (!flood(from, f, len)) {
                    stats.drop(Drop.NOT_FOR_US);
                }
            } else if (to != from) {
                forward(to, f, len);
            } else {
                stats.drop(Drop.NOT_FOR_US);
            }
        }
    }

    private boolean flood(Link from, ByteBuffer f, int len) {
        boolean any = false;
        for (int i = 0; i < links.size(); i++) {
            Link l = links.get(i);
            if (l != from) {
                forward(l, f, len);
                any = true;
            }
        }
        return any;
    }

    private static void forward(Link to, ByteBuffer f, int len) {
        f.limit(len).position(0);
        to.send(f, 0);
        f.limit(len).position(0);
    }

    private void learn(long mac, Link link) {
        for (int i = 0; i < macCount; i++) {
            if (macs[i] == mac) {
                macLinks[i] = link;
                return;
            }
        }
        if (macCount < MAX_MAC_ENTRIES) {
            macs[macCount] = mac;
            macLinks[macCount++] = link;
        }
    }

    private Link lookup(long mac) {
        for (int i = 0; i < macCount; i++) {
            if (macs[i] == mac) {
                return macLinks[i];
            }
        }
        return null;
    }

    private void forget(Link link) {
        int j = 0;
        for (int i = 0; i < macCount; i++) {
            if (macLinks[i] != link) {
                macs[j] = macs[i];
                macLinks[j++] = macLinks[i];
            }
        }
        for (int i = j; i < macCount; i++) {
            macLinks[i] = null;
        }
        macCount = j;
    }

    // ---------------------------------------------------------------- from the gateway

    @Override
    public boolean send(ByteBuffer b, int len, int gsoSize) {
        stats.sent(len);
        b.limit(len).position(0);
        FrameTap c = capture;
        if (c != null) {
            c.frame(b, System.nanoTime());
            b.limit(len).position(0);
        }
        long dst = Ethernet.getMac(b, 0);
        Link to = Mac.isGroup(dst) ? null : lookup(dst);
        if (to != null) {
            return to.send(b, gsoSize);
        }
        for (int i = 0; i < links.size(); i++) {
            links.get(i).send(b, gsoSize);
            b.limit(len).position(0);
        }
        return true;
    }

    @Override
    public boolean gathers(long dstMac) {
        if (capture != null) {
            return false; // a capture wants whole frames
        }
        Link to = lookup(dstMac);
        return to != null && to.gathersFrames();
    }

    @Override
    public boolean send(ByteBuffer headers, int headersLength, ByteBuffer payload, int payloadOffset, int payloadLength, int gsoSize) {
        Link to = lookup(Ethernet.getMac(headers, 0));
        if (to == null) {
            stats.drop(Drop.NO_GUEST_MAC);
            return true;
        }
        stats.sent(headersLength + payloadLength);
        headers.limit(headersLength).position(0);
        payload.limit(payloadOffset + payloadLength).position(payloadOffset);
        return to.send(headers, payload, gsoSize);
    }
}
