package dev.slipway.networking.stack;

import java.nio.ByteBuffer;

/**
 * Bounded IPv4 fragment reassembly: a fixed number of slots, each a 64 KiB buffer allocated once
 * and a bitmap of the 8-byte blocks received. Overlapping fragments drop the whole datagram (they
 * are the classic evasion and resource attacks); a full table evicts its oldest datagram.
 */
final class Reassembler {
    private static final int MAX_PAYLOAD = 65535 - 20;
    private final NetStack stack;
    private final Slot[] slots;
    private final long timeoutNanos;

    private static final class Slot {
        boolean used;
        int src, dst, id, protocol;
        long started;
        int total = -1;
        int received;
        boolean haveFirst;
        final long[] blocks = new long[(MAX_PAYLOAD / 8 + 64) / 64];
        ByteBuffer data;
    }

    Reassembler(NetStack stack, int maxDatagrams, long timeoutMillis) {
        this.stack = stack;
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
        int id = f.getShort(NetStack.IP_OFF + 4) & 0xffff;
        int protocol = f.get(NetStack.IP_OFF + 9) & 0xff;
        boolean more = (fragmentField & 0x2000) != 0;
        int offset = (fragmentField & 0x1fff) * 8;
        int length = totalLen - ihl;
        if ((more && (length & 7) != 0) || length <= 0 && more) {
            stack.stats.drop(Drop.BAD_IP_HEADER);
            return null;
        }
        Slot s = find(src, dst, id, protocol);
        if (offset + length > MAX_PAYLOAD) {
            stack.stats.drop(Drop.FRAGMENT_TOO_LARGE);
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
            java.util.Arrays.fill(s.blocks, 0);
            if (s.data == null) {
                s.data = ByteBuffer.allocateDirect(NetStack.ETH_HLEN + 20 + MAX_PAYLOAD + 8);
            }
        }
        int firstBlock = offset >> 3;
        int endBlock = (offset + length + 7) >> 3;
        for (int b = firstBlock; b < endBlock; b++) {
            if ((s.blocks[b >> 6] & 1L << (b & 63)) != 0) {
                stack.stats.drop(Drop.FRAGMENT_OVERLAP);
                s.used = false;
                return null;
            }
        }
        if (!more) {
            if (s.total >= 0 || anyBlockFrom(s, endBlock)) {
                stack.stats.drop(Drop.FRAGMENT_OVERLAP);
                s.used = false;
                return null;
            }
            s.total = offset + length;
        } else if (s.total >= 0 && offset + length > s.total) {
            stack.stats.drop(Drop.FRAGMENT_OVERLAP);
            s.used = false;
            return null;
        }
        for (int b = firstBlock; b < endBlock; b++) {
            s.blocks[b >> 6] |= 1L << (b & 63);
        }
        int payloadStart = NetStack.ETH_HLEN + 20;
        s.data.put(payloadStart + offset, f, NetStack.IP_OFF + ihl, length);
        if (offset == 0) {
            s.data.put(0, f, 0, NetStack.ETH_HLEN + 20);
            s.haveFirst = true;
        }
        s.received += length;
        if (s.haveFirst && s.total >= 0 && s.received == s.total) {
            ByteBuffer d = s.data;
            d.put(NetStack.IP_OFF, (byte) 0x45);
            d.putShort(NetStack.IP_OFF + 2, (short) (20 + s.total));
            d.putShort(NetStack.IP_OFF + 6, (short) 0);
            d.putShort(NetStack.IP_OFF + 10, (short) 0);
            d.putShort(NetStack.IP_OFF + 10, (short) Checksum.compute(d, NetStack.IP_OFF, 20));
            d.limit(payloadStart + s.total).position(0);
            return d;
        }
        return null;
    }

    private static boolean anyBlockFrom(Slot s, int block) {
        for (int b = block; b < s.blocks.length * 64; b++) {
            if ((s.blocks[b >> 6] & 1L << (b & 63)) != 0) {
                return true;
            }
        }
        return false;
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
                stack.stats.drop(Drop.FRAGMENT_TIMEOUT);
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
        stack.stats.drop(Drop.FRAGMENT_EVICTED);
        return oldest;
    }
}
