package dev.slipway.networking.stack.ip;

import java.util.Arrays;

/**
 * Which 8-byte blocks of a datagram being reassembled have arrived: the bitmap both IP families'
 * reassemblers keep per datagram, allocated once with its slot.
 */
public final class FragmentBlocks {
    private final long[] bits;

    public FragmentBlocks(int maxPayload) {
        this.bits = new long[(maxPayload / 8 + 64) / 64];
    }

    public void clear() {
        Arrays.fill(bits, 0);
    }

    /** Whether any block in [first, end) has arrived already. */
    public boolean any(int first, int end) {
        for (int b = first; b < end; b++) {
            if ((bits[b >> 6] & 1L << (b & 63)) != 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether any block from {@code first} on has arrived (data past a last fragment's end). */
    public boolean anyFrom(int first) {
        return any(first, bits.length * 64);
    }

    public void mark(int first, int end) {
        for (int b = first; b < end; b++) {
            bits[b >> 6] |= 1L << (b & 63);
        }
    }
}
