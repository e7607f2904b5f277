package dev.slipway.networking.stack.ip4;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.FragmentBlocks;
import dev.slipway.networking.stack.link.Ethernet;

/**
 * Bounded IPv4 fragment reassembly: a fixed number of slots, each a 64 KiB buffer allocated once
 * and a bitmap of the 8-byte blocks received. Overlapping fragments drop the whole datagram (they
 * are the classic evasion and resource attacks); a full table evicts its oldest datagram.
 */
final class Reassembler {
    private static final int MAX_PAYLOAD = 65535 - 20;
    private final Ip4Layer layer;
    private final Slot[] slots;
    private final long timeoutNanos;

    private static final class Slot {
        boolean used;
        int src, dst, id, protocol;
        long started;
        int total = -1;
        int received;
        boolean haveFirst;
        final FragmentBlocks blocks = new FragmentBlocks(MAX_PAYLOAD);
        ByteBuffer data;
    }

    Reassembler(Ip4Layer layer, int maxDatagrams, long timeoutMillis) {
        this.layer = layer;
        this.slots = new Slot[maxDatagrams];
        for (int i = 0; i < maxDatagrams; i++) {
            slots[i] = new Slot();
        }
        this.timeoutNanos = timeoutMillis * 1_000_000L;
    }

    /**
     * Adds the fragment in {@code f}; returns the whole datagram (a frame with a 20-byte IP header)
     * once complete, which the caller hands back through {@link #release}.
     */
    ByteBuffer add(ByteBuffer f, int ihl, int totalLen, int src, int dst, int fragmentField) {
        int id = f.getShort(Ip4Layer.IP_OFF + 4) & 0xffff;
        int protocol = f.get(Ip4Layer.IP_OFF + 9) & 0xff;
        boolean more = (fragmentField & 0x2000) != 0;
        int offset = (fragmentField & 0x1fff) * 8;
        int length = totalLen - ihl;
        if ((more && (length & 7) != 0) || length <= 0 && more) {
            layer.stats.drop(Drop.BAD_IP_HEADER);
            return null;
        }
        Slot s = find(src, dst, id, protocol);
        if (offset + length > MAX_PAYLOAD) {
            layer.stats.drop(Drop.FRAGMENT_TOO_LARGE);
            if (s != null) {
                s.used = false;
            }
            return null;
        }
        if (s == null) {
            s = allocate();
            s.used = true;
            s.src = src;
            s.dst = dst;
            s.id = id;
            s.protocol = protocol;
            s.started = System.nanoTime();
            s.total = -1;
            s.received = 0;
            s.haveFirst = false;
            s.blocks.clear();
            if (s.data == null) {
                s.data = ByteBuffer.allocateDirect(Ethernet.HLEN + 20 + MAX_PAYLOAD + 8);
            }
        }
        int firstBlock = offset >> 3;
        int endBlock = (offset + length + 7) >> 3;
        if (s.blocks.any(firstBlock, endBlock)) {
            layer.stats.drop(Drop.FRAGMENT_OVERLAP);
            s.used = false;
            return null;
        }
        if (!more) {
            if (s.total >= 0 || s.blocks.anyFrom(endBlock)) {
                layer.stats.drop(Drop.FRAGMENT_OVERLAP);
                s.used = false;
                return null;
            }
            s.total = offset + length;
        } else if (s.total >= 0 && offset + length > s.total) {
            layer.stats.drop(Drop.FRAGMENT_OVERLAP);
            s.used = false;
            return null;
        }
        s.blocks.mark(firstBlock, endBlock);
        int payloadStart = Ethernet.HLEN + 20;
        s.data.put(payloadStart + offset, f, Ip4Layer.IP_OFF + ihl, length);
        if (offset == 0) {
            s.data.put(0, f, 0, Ethernet.HLEN + 20);
            s.haveFirst = true;
        }
        s.received += length;
        if (s.haveFirst && s.total >= 0 && s.received == s.total) {
            ByteBuffer d = s.data;
            d.put(Ip4Layer.IP_OFF, (byte) 0x45);
            d.putShort(Ip4Layer.IP_OFF + 2, (short) (20 + s.total));
            d.putShort(Ip4Layer.IP_OFF + 6, (short) 0);
            d.putShort(Ip4Layer.IP_OFF + 10, (short) 0);
            d.putShort(Ip4Layer.IP_OFF + 10, (short) Checksum.compute(d, Ip4Layer.IP_OFF, 20));
            d.limit(payloadStart + s.total).position(0);
            return d;
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
                layer.stats.drop(Drop.FRAGMENT_TIMEOUT);
            }
        }
    }

    /** When the oldest datagram in progress started, or {@code fallback} when none is. */
    long oldestStart(long fallback) {
        long oldest = fallback;
        boolean any = false;
        for (Slot s : slots) {
            if (s.used && (!any || s.started - oldest < 0)) {
                oldest = s.started;
                any = true;
            }
        }
        return oldest;
    }

    long timeoutNanos() {
        return timeoutNanos;
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

    private Slot find(int src, int dst, int id, int protocol) {
        for (Slot s : slots) {
            if (s.used && s.src == src && s.dst == dst && s.id == id && s.protocol == protocol) {
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
        layer.stats.drop(Drop.FRAGMENT_EVICTED);
        return oldest;
    }
}
