package dev.slipway.networking.stack.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.slipway.networking.stack.host.HostStream;

/**
 * The guest's bytes the host endpoint has not taken yet, and the bytes that arrived ahead of a
 * gap. Empty (and without a buffer) in the common case, where the guest's payload goes from its
 * frame straight into the host.
 *
 * <p>The buffer holds the sequence space from the first byte not yet written to the host: the
 * in-order bytes at {@code [0, length)}, then the window. A segment that arrives past a gap (a
 * guest routing through several CPUs reorders its segments) is held at its place in the window,
 * so once the gap fills the bytes join the in-order ones without a copy and without the guest
 * sending them again. Held ranges are kept as offsets from the end of the in-order bytes (the
 * connection's next expected sequence number): sorted, disjoint and not touching.
 */
final class HostQueue {
    /** At most this many separate held ranges; a segment that would open one more is dropped. */
    static final int MAX_HELD_RANGES = 8;
    private final TcpBuffers buffers;
    private ByteBuffer buffer;
    int length;
    private final int[] heldStart = new int[MAX_HELD_RANGES];
    private final int[] heldEnd = new int[MAX_HELD_RANGES];
    int heldRanges;
    /** The offset of the most recently held segment's first byte: its range is reported first (RFC 2018). */
    private int recentHeld;

    HostQueue(TcpBuffers buffers) {
        this.buffers = buffers;
    }

    /** Room the queue has left: what the window may offer. */
    int free() {
        return buffers.limit - length;
    }

    /** Nothing waits for the host and nothing is held past a gap. */
    boolean empty() {
        return length == 0 && heldRanges == 0;
    }

    /** The bytes the buffer holds from its start: the in-order ones and the held ones up to the last. */
    private int extent() {
        return length + (heldRanges > 0 ? heldEnd[heldRanges - 1] : 0);
    }

    /** A buffer of at least {@code needed} bytes holding what the current one holds. */
    private void reserve(int needed) {
        if (buffer == null) {
            buffer = buffers.take(needed);
        } else if (buffer.capacity() < needed) {
            ByteBuffer bigger = buffers.takeLarge();
            bigger.put(0, buffer, 0, extent());
            buffers.give(buffer);
            buffer = bigger;
        }
        buffer.limit(buffer.capacity());
    }

    /**
     * Queues {@code n} in-order bytes of {@code f} from {@code offset}; returns how many held bytes
     * they made contiguous, which are in order now too (the caller's next expected sequence number
     * moves past both).
     */
    int append(ByteBuffer f, int offset, int n) {
        reserve(Math.max(length + n, extent()));
        buffer.put(length, f, offset, n);
        length += n;
        return advanceHeld(n);
    }

    /** The in-order bytes grew by {@code n}: held offsets move back, and a range the gap closed on joins them. */
    private int advanceHeld(int n) {
        if (heldRanges == 0) {
            return 0;
        }
        recentHeld -= n;
        int kept = 0;
        for (int i = 0; i < heldRanges; i++) {
            int s = heldStart[i] - n;
            int e = heldEnd[i] - n;
            if (e <= 0) {
                continue; // the in-order bytes covered it
            }
            heldStart[kept] = Math.max(0, s);
            heldEnd[kept] = e;
            kept++;
        }
        heldRanges = kept;
        if (heldRanges == 0 || heldStart[0] > 0) {
            return 0;
        }
        int joined = heldEnd[0];
        length += joined;
        removeFirst();
        recentHeld -= joined;
        for (int i = 0; i < heldRanges; i++) {
            heldStart[i] -= joined;
            heldEnd[i] -= joined;
        }
        return joined;
    }

    private void removeFirst() {
        heldRanges--;
        System.arraycopy(heldStart, 1, heldStart, 0, heldRanges);
        System.arraycopy(heldEnd, 1, heldEnd, 0, heldRanges);
    }

    /**
     * Holds {@code n} bytes of {@code f} from {@code offset} that belong {@code ahead} bytes past the
     * next expected one (ahead > 0), clipped to the window; false when nothing of them could be held
     * (past the window, or one gap too many).
     */
    boolean hold(ByteBuffer f, int offset, int n, int ahead) {
        if (ahead <= 0 || ahead >= free()) {
            return false;
        }
        int end = Math.min(ahead + n, free());
        if (end <= ahead) {
            return false;
        }
        int i = 0;
        while (i < heldRanges && heldEnd[i] < ahead) {
            i++;
        }
        boolean joins = i < heldRanges && heldStart[i] <= end;
        if (!joins && heldRanges == MAX_HELD_RANGES) {
            return false;
        }
        reserve(Math.max(extent(), length + end));
        buffer.put(length + ahead, f, offset, end - ahead);
        recentHeld = ahead;
        if (joins) {
            // overlaps or touches range i: widen it, then swallow the ranges it now reaches
            heldStart[i] = Math.min(heldStart[i], ahead);
            heldEnd[i] = Math.max(heldEnd[i], end);
            int j = i + 1;
            while (j < heldRanges && heldStart[j] <= heldEnd[i]) {
                heldEnd[i] = Math.max(heldEnd[i], heldEnd[j]);
                j++;
            }
            int gone = j - i - 1;
            if (gone > 0) {
                System.arraycopy(heldStart, j, heldStart, i + 1, heldRanges - j);
                System.arraycopy(heldEnd, j, heldEnd, i + 1, heldRanges - j);
                heldRanges -= gone;
            }
        } else {
            System.arraycopy(heldStart, i, heldStart, i + 1, heldRanges - i);
            System.arraycopy(heldEnd, i, heldEnd, i + 1, heldRanges - i);
            heldStart[i] = ahead;
            heldEnd[i] = end;
            heldRanges++;
        }
        return true;
    }

    /**
     * Writes the SACK option (RFC 2018) for the held ranges at {@code at} of {@code o}: the range of
     * the most recent segment first, then the others, at most {@code maxBlocks}; {@code rcvNxt} is
     * the next expected sequence number the offsets count from. A D-SACK block (RFC 2883) for a
     * duplicate the guest sent, {@code dupStart} to {@code dupEnd}, goes first when they differ.
     * Returns the option's length (a multiple of 4; 0 when there is nothing to report).
     */
    int sackOption(ByteBuffer o, int at, int rcvNxt, int dupStart, int dupEnd, int maxBlocks) {
        boolean dup = dupStart != dupEnd;
        int recent = -1;
        for (int i = 0; i < heldRanges; i++) {
            if (heldStart[i] <= recentHeld && recentHeld < heldEnd[i]) {
                recent = i;
            }
        }
        int blocks = Math.min(maxBlocks, heldRanges + (dup ? 1 : 0));
        if (blocks == 0) {
            return 0;
        }
        o.putInt(at, 1 << 24 | 1 << 16 | 5 << 8 | (2 + 8 * blocks));
        int b = at + 4;
        int written = 0;
        if (dup) {
            o.putInt(b, dupStart).putInt(b + 4, dupEnd);
            b += 8;
            written++;
        }
        if (recent >= 0 && written < blocks) {
            o.putInt(b, rcvNxt + heldStart[recent]).putInt(b + 4, rcvNxt + heldEnd[recent]);
            b += 8;
            written++;
        }
        for (int i = 0; i < heldRanges && written < blocks; i++) {
            if (i != recent) {
                o.putInt(b, rcvNxt + heldStart[i]).putInt(b + 4, rcvNxt + heldEnd[i]);
                b += 8;
                written++;
            }
        }
        return 4 + 8 * blocks;
    }

    /** Writes what it can to the host; returns how many bytes went. Held bytes move along with the rest. */
    int flush(HostStream host) throws IOException {
        int before = length;
        buffer.limit(before).position(0);
        host.write(buffer);
        int written = buffer.position();
        int extent = before + (heldRanges > 0 ? heldEnd[heldRanges - 1] : 0);
        if (written == extent) {
            length = 0;
            release();
        } else {
            if (written > 0) {
                buffer.limit(extent).position(written);
                buffer.compact();
            }
            length = before - written;
        }
        return written;
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

    /** The held ranges as {@code {start, end, start, end, ...}}, offsets from the next expected byte. */
    int[] heldRanges() {
        int[] r = new int[2 * heldRanges];
        for (int i = 0; i < heldRanges; i++) {
            r[2 * i] = heldStart[i];
            r[2 * i + 1] = heldEnd[i];
        }
        return r;
    }

    /** The bytes past the in-order ones up to the last held byte (gaps included), for the next version. */
    byte[] copyHeld() {
        byte[] b = new byte[extent() - length];
        if (b.length > 0) {
            buffer.limit(buffer.capacity());
            buffer.get(length, b);
        }
        return b;
    }

    void release() {
        if (buffer != null) {
            buffers.give(buffer);
            buffer = null;
        }
        length = 0;
        heldRanges = 0;
    }
}
