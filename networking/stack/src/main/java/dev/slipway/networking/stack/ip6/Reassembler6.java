package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.FragmentBlocks;

/**
 * Bounded IPv6 fragment reassembly with IPv4's limits: a fixed number of slots, each a 64 KiB
 * buffer allocated once and a bitmap of the 8-byte blocks received; the whole datagram is dropped
 * on an overlap (RFC 5722), a full table evicts its oldest datagram, an unfinished one expires.
 * Beyond IPv4: a fragment other than the last must fill the minimum MTU (every IPv6 link carries
 * 1280 bytes, so smaller pieces are made on purpose), and the first must hold the whole header chain.
 */
final class Reassembler6 {
    /** A reassembled payload, fragment header gone, must fit the IPv6 payload length field. */
    static final int MAX_PAYLOAD = 65535;
    /** The shortest packet that may carry a fragment other than the last (the minimum MTU less the 8-byte rounding). */
    static final int MIN_NON_LAST_PACKET = Ip6Config.MIN_MTU - 8;
    private final Ip6Layer layer;
    private final Slot[] slots;
    private final long timeoutNanos;

    private static final class Slot {
        boolean used;
        long srcHi, srcLo, dstHi, dstLo;
        int id;
        long started;
        int total = -1;
        int received;
        boolean haveFirst;
        int nextHeader;
        final FragmentBlocks blocks = new FragmentBlocks(MAX_PAYLOAD);
        ByteBuffer data;
    }

    Reassembler6(Ip6Layer layer, int maxDatagrams, long timeoutMillis) {
        this.layer = layer;
        this.slots = new Slot[maxDatagrams];
        for (int i = 0; i < maxDatagrams; i++) {
            slots[i] = new Slot();
        }
        this.timeoutNanos = timeoutMillis * 1_000_000L;
    }

    /**
     * Adds the fragment {@code p} describes; returns the whole packet (Ethernet header, a 40-byte
     * IPv6 header without extension headers, the payload) once complete, handed back through {@link #release}.
     */
    ByteBuffer add(ByteBuffer f, Ip6Packet p, long now) {
        int fh = p.fragmentHeader;
        int field = f.getShort(fh + 2) & 0xffff;
        int offset = field & 0xfff8;
        boolean more = (field & 1) != 0;
        int id = f.getInt(fh + 4);
        int start = fh + 8;
        int length = p.end - start;
        Slot s = find(p, id);
        if (length <= 0 || more && (length & 7) != 0) {
            return fail(s, Drop.BAD_IP_HEADER);
        }
        if (more && p.end - p.ipOffset < MIN_NON_LAST_PACKET) {
            return fail(s, Drop.FRAGMENT_TINY);
        }
        if (offset + length > MAX_PAYLOAD) {
            return fail(s, Drop.FRAGMENT_TOO_LARGE);
        }
        if (s == null) {
            s = allocate();
            s.used = true;
            s.srcHi = p.srcHi;
            s.srcLo = p.srcLo;
            s.dstHi = p.dstHi;
            s.dstLo = p.dstLo;
            s.id = id;
            s.started = now;
            s.total = -1;
            s.received = 0;
            s.haveFirst = false;
            s.blocks.clear();
            if (s.data == null) {
                s.data = ByteBuffer.allocateDirect(Ip6Layer.PAYLOAD + MAX_PAYLOAD + 8);
            }
        }
        int firstBlock = offset >> 3;
        int endBlock = (offset + length + 7) >> 3;
        if (s.blocks.any(firstBlock, endBlock)) {
            return fail(s, Drop.FRAGMENT_OVERLAP);
        }
        if (!more) {
            if (s.total >= 0 || s.blocks.anyFrom(endBlock)) {
                return fail(s, Drop.FRAGMENT_OVERLAP);
            }
            s.total = offset + length;
        } else if (s.total >= 0 && offset + length > s.total) {
            return fail(s, Drop.FRAGMENT_OVERLAP);
        }
        s.blocks.mark(firstBlock, endBlock);
        s.data.put(Ip6Layer.PAYLOAD + offset, f, start, length);
        if (offset == 0) {
            s.data.put(0, f, 0, Ip6Layer.PAYLOAD);
            s.nextHeader = f.get(fh) & 0xff;
            s.haveFirst = true;
        }
        s.received += length;
        if (s.haveFirst && s.total >= 0 && s.received == s.total) {
            ByteBuffer d = s.data;
            d.putShort(Ip6Layer.IP + 4, (short) s.total);
            d.put(Ip6Layer.IP + 6, (byte) s.nextHeader);
            d.limit(Ip6Layer.PAYLOAD + s.total).position(0);
            return d;
        }
        return null;
    }

    private ByteBuffer fail(Slot s, Drop reason) {
        layer.output.drop(reason);
        if (s != null) {
            s.used = false;
        }
        return null;
    }

    void release(ByteBuffer whole) {
        for (Slot s : slots) {
            if (s.data == whole) {
                s.used = false;
                whole.clear();
            }
        }
    }

    void expire(long now) {
        for (Slot s : slots) {
            if (s.used && now - s.started > timeoutNanos) {
                s.used = false;
                layer.output.drop(Drop.FRAGMENT_TIMEOUT);
            }
        }
    }

    int inProgress() {
        int n = 0;
        for (Slot s : slots) {
            if (s.used) {
                n++;
            }
        }
        return n;
    }

    private Slot find(Ip6Packet p, int id) {
        for (Slot s : slots) {
            if (s.used && s.id == id && s.srcHi == p.srcHi && s.srcLo == p.srcLo && s.dstHi == p.dstHi && s.dstLo == p.dstLo) {
                return s;
            }
        }
        return null;
    }

    private Slot allocate() {
        Slot oldest = null;
        for (Slot s : slots) {
            if (!s.used) {
                return s;
            }
            if (oldest == null || s.started - oldest.started < 0) {
                oldest = s;
            }
        }
        layer.output.drop(Drop.FRAGMENT_EVICTED);
        return oldest;
    }
}
