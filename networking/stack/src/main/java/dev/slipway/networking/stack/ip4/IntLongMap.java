package dev.slipway.networking.stack.ip4;

import java.util.Arrays;

/** A bounded open-addressing map from non-zero int keys to longs, without boxing (IP to MAC). */
final class IntLongMap {
    private final int[] keys;
    private final long[] values;
    private final int mask;
    private final int limit;
    private int size;

    IntLongMap(int capacityPowerOfTwo) {
        keys = new int[capacityPowerOfTwo];
        values = new long[capacityPowerOfTwo];
        mask = capacityPowerOfTwo - 1;
        limit = capacityPowerOfTwo * 3 / 4;
    }

    private int slot(int key) {
        int h = key * 0x9E3779B9;
        return (h ^ h >>> 16) & mask;
    }

    /** The value, or -1 when absent. */
    long get(int key) {
        for (int i = slot(key); ; i = i + 1 & mask) {
            int k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    /** Puts the pair; returns false (and changes nothing) when the map is full. */
    boolean put(int key, long value) {
        for (int i = slot(key); ; i = i + 1 & mask) {
            int k = keys[i];
            if (k == key) {
                values[i] = value;
                return true;
            }
            if (k == 0) {
                if (size >= limit) {
                    return false;
                }
                keys[i] = key;
                values[i] = value;
                size++;
                return true;
            }
        }
    }

    int size() {
        return size;
    }

    void clear() {
        Arrays.fill(keys, 0);
        size = 0;
    }
}
