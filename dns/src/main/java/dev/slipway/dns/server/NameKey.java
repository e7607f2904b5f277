package dev.slipway.dns.server;

import java.util.Arrays;

/**
 * A hash-map key made of a lower-cased wire-format name and a discriminator (query type and flags,
 * or -1 for the name alone). Stored keys own their bytes; a per-thread probe key points at the
 * parser's scratch array so that a lookup allocates nothing.
 */
final class NameKey {

    private byte[] bytes;
    private int length;
    private int discriminator;
    private int hash;

    private NameKey() {}

    /** A stored key: copies the name. */
    static NameKey of(byte[] name, int length, int nameHash, int discriminator) {
        NameKey key = new NameKey();
        key.bytes = Arrays.copyOf(name, length);
        key.length = length;
        key.discriminator = discriminator;
        key.hash = nameHash * 31 + discriminator;
        return key;
    }

    /** A probe key for lookups; {@link #point} it at a name before each use. */
    static NameKey probe() {
        return new NameKey();
    }

    NameKey point(byte[] name, int length, int nameHash, int discriminator) {
        this.bytes = name;
        this.length = length;
        this.discriminator = discriminator;
        this.hash = nameHash * 31 + discriminator;
        return this;
    }

    /** The FNV-1a hash {@link WireQuery} computes over a lower-cased wire name's bytes. */
    static int hashOf(byte[] name, int length) {
        int hash = 0x811C9DC5;
        for (int i = 0; i < length - 1; i++) {
            hash = (hash ^ (name[i] & 0xFF)) * 0x01000193;
        }
        return hash;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NameKey key && key.hash == hash && key.length == length
                && key.discriminator == discriminator
                && Arrays.equals(key.bytes, 0, key.length, bytes, 0, length);
    }
}
