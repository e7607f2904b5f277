package dev.slipway.networking.stack.ip6;

/**
 * The guests' IPv6 addresses and their MACs: a fixed open-addressed table. A guest may claim any
 * number of addresses, so a full probe run replaces its least recently confirmed entry rather than
 * growing: a flood of made-up addresses only churns the table.
 */
final class Neighbors {
    private static final int PROBE = 8;
    private final long[] his;
    private final long[] los;
    private final long[] macs; // -1: free
    private final long[] seen;
    private final int mask;
    private int size;
    long replaced;

    Neighbors(int capacity) {
        int c = Integer.highestOneBit(Math.max(PROBE, capacity - 1)) << 1;
        his = new long[c];
        los = new long[c];
        macs = new long[c];
        seen = new long[c];
        java.util.Arrays.fill(macs, -1);
        mask = c - 1;
    }

    private int home(long hi, long lo) {
        long h = (hi ^ lo * 0x9e37_79b9_7f4a_7c15L) * 0xc2b2_ae3d_27d4_eb4fL;
        return (int) (h >>> 40) & mask;
    }

    void put(long hi, long lo, long mac, long now) {
        int start = home(hi, lo);
        int free = -1;
        int oldest = -1;
        for (int i = 0; i < PROBE; i++) {
            int s = (start + i) & mask;
            if (macs[s] < 0) {
                free = free < 0 ? s : free;
            } else if (his[s] == hi && los[s] == lo) {
                macs[s] = mac;
                seen[s] = now;
                return;
            } else if (oldest < 0 || seen[s] - seen[oldest] < 0) {
                oldest = s;
            }
        }
        int victim = free >= 0 ? free : oldest;
        if (macs[victim] >= 0) {
            replaced++;
        } else {
            size++;
        }
        his[victim] = hi;
        los[victim] = lo;
        macs[victim] = mac;
        seen[victim] = now;
    }

    /** The MAC of the address, or -1 when no guest has shown it. */
    long get(long hi, long lo) {
        int start = home(hi, lo);
        for (int i = 0; i < PROBE; i++) {
            int s = (start + i) & mask;
            if (macs[s] >= 0 && his[s] == hi && los[s] == lo) {
                return macs[s];
            }
        }
        return -1;
    }

    int size() {
        return size;
    }

    /** The entries as text, for the status. */
    java.util.Map<String, String> snapshot(int max) {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        for (int s = 0; s < macs.length && m.size() < max; s++) {
            if (macs[s] >= 0) {
                m.put(Ip6.toString(his[s], los[s]), dev.slipway.networking.stack.Mac.toString(macs[s]));
            }
        }
        return m;
    }
}
