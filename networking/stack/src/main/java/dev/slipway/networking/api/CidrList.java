package dev.slipway.networking.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An immutable list of IPv4 and IPv6 address blocks (CIDR, or single addresses). Matching takes
 * addresses as numbers and allocates nothing, so the stack can ask it for every packet; the same
 * list, handed to other bundles by {@link GuestNetwork#refusedDestinations()}, decides for the
 * proxy's paths.
 *
 * <p>IPv4 addresses embedded in IPv6 ones (IPv4-mapped {@code ::ffff:a.b.c.d} and NAT64
 * {@code 64:ff9b::a.b.c.d}) match the IPv4 blocks: either form reaches the same IPv4 host.
 */
public final class CidrList {

    /**
     * Cloud metadata and platform services a guest must not reach through the host: link-local
     * (169.254.169.254 on AWS, GCP, Azure, OpenStack and more), Alibaba's 100.100.100.200, AWS's
     * IPv6 fd00:ec2::254, Azure's wire server 168.63.129.16, and IPv6 link-local.
     */
    public static final String CLOUD_METADATA = "169.254.0.0/16,100.100.100.200,fd00:ec2::254,168.63.129.16,fe80::/10";

    /** The link-local blocks, which the stack's link-local switch allows. */
    public static final String LINK_LOCAL = "169.254.0.0/16,fe80::/10";

    private static final long NAT64_PREFIX_HIGH = 0x0064_ff9b_0000_0000L;

    private final List<String> entries;
    private final int[] v4Networks;
    private final int[] v4Masks;
    private final long[] v6Networks; // high, low per entry
    private final long[] v6Masks;

    private CidrList(List<String> entries, int[] v4Networks, int[] v4Masks, long[] v6Networks, long[] v6Masks) {
        this.entries = List.copyOf(entries);
        this.v4Networks = v4Networks;
        this.v4Masks = v4Masks;
        this.v6Networks = v6Networks;
        this.v6Masks = v6Masks;
    }

    /** {@link #CLOUD_METADATA}. */
    public static CidrList cloudMetadata() {
        return parse(CLOUD_METADATA);
    }

    /**
     * Parses a comma (or space) separated list of {@code address} and {@code address/prefix}
     * entries, IPv4 or IPv6 literals only (no names: nothing is looked up). Empty gives an empty list.
     *
     * @throws IllegalArgumentException naming the entry that is not an address block
     */
    public static CidrList parse(String text) {
        List<String> entries = new ArrayList<>();
        if (text != null) {
            for (String part : text.split("[,\\s]+")) {
                if (!part.isBlank()) {
                    entries.add(part.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        return of(entries);
    }

    /** The list of these entries; see {@link #parse}. */
    public static CidrList of(List<String> entries) {
        int[] v4n = new int[entries.size()];
        int[] v4m = new int[entries.size()];
        long[] v6n = new long[entries.size() * 2];
        long[] v6m = new long[entries.size() * 2];
        int v4 = 0;
        int v6 = 0;
        for (String entry : entries) {
            int slash = entry.indexOf('/');
            String literal = slash < 0 ? entry : entry.substring(0, slash);
            byte[] bytes = literalBytes(literal, entry);
            int bits = bytes.length * 8;
            int prefix = bits;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(entry.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > bits) {
                    throw new IllegalArgumentException("not an address block: " + entry + " (the prefix must be 0.." + bits + ")");
                }
            }
            if (bytes.length == 16 && prefix >= 96 && isMapped(bytes)) {
                bytes = Arrays.copyOfRange(bytes, 12, 16); // matched as IPv4, as addresses are
                prefix -= 96;
            }
            if (bytes.length == 4) {
                int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
                v4m[v4] = mask;
                v4n[v4++] = toInt(bytes, 0) & mask;
            } else {
                long highMask = prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix);
                long lowMask = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
                v6m[2 * v6] = highMask;
                v6m[2 * v6 + 1] = lowMask;
                v6n[2 * v6] = toLong(bytes, 0) & highMask;
                v6n[2 * v6 + 1] = toLong(bytes, 8) & lowMask;
                v6++;
            }
        }
        return new CidrList(entries, Arrays.copyOf(v4n, v4), Arrays.copyOf(v4m, v4),
                Arrays.copyOf(v6n, 2 * v6), Arrays.copyOf(v6m, 2 * v6));
    }

    /** Whether the IPv4 address (big-endian int, first octet in the high byte) is in one of the blocks. */
    public boolean containsIpv4(int address) {
        for (int i = 0; i < v4Networks.length; i++) {
            if ((address & v4Masks[i]) == v4Networks[i]) {
                return true;
            }
        }
        return false;
    }

    /** Whether the IPv6 address, as its high and low 64 bits, is in one of the blocks. */
    public boolean containsIpv6(long high, long low) {
        if (high == 0 && (low >>> 32) == 0xffff || high == NAT64_PREFIX_HIGH && (low >>> 32) == 0) {
            return containsIpv4((int) low);
        }
        for (int i = 0; i < v6Networks.length; i += 2) {
            if ((high & v6Masks[i]) == v6Networks[i] && (low & v6Masks[i + 1]) == v6Networks[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** Whether the address is in one of the blocks. */
    public boolean contains(InetAddress address) {
        byte[] b = address.getAddress();
        return b.length == 4 ? containsIpv4(toInt(b, 0)) : containsIpv6(toLong(b, 0), toLong(b, 8));
    }

    /** This list without the entries lying wholly inside one of {@code blocks}. */
    public CidrList without(CidrList blocks) {
        List<String> kept = new ArrayList<>();
        for (String entry : entries) {
            CidrList one = of(List.of(entry));
            boolean inside = one.v4Networks.length == 1
                    ? blocks.v4BlockCovers(one.v4Networks[0], one.v4Masks[0])
                    : blocks.v6BlockCovers(one.v6Networks[0], one.v6Networks[1], one.v6Masks[0], one.v6Masks[1]);
            if (!inside) {
                kept.add(entry);
            }
        }
        return of(kept);
    }

    private boolean v4BlockCovers(int network, int mask) {
        for (int i = 0; i < v4Networks.length; i++) {
            if ((v4Masks[i] & mask) == v4Masks[i] && (network & v4Masks[i]) == v4Networks[i]) {
                return true;
            }
        }
        return false;
    }

    private boolean v6BlockCovers(long high, long low, long highMask, long lowMask) {
        for (int i = 0; i < v6Networks.length; i += 2) {
            boolean wider = (v6Masks[i] & highMask) == v6Masks[i] && (v6Masks[i + 1] & lowMask) == v6Masks[i + 1];
            if (wider && (high & v6Masks[i]) == v6Networks[i] && (low & v6Masks[i + 1]) == v6Networks[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** The entries as given (lower case), in order. */
    public List<String> entries() {
        return entries;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrList other && entries.equals(other.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    /** The entries, comma separated: what {@link #parse} reads back. */
    @Override
    public String toString() {
        return String.join(",", entries);
    }

    private static byte[] literalBytes(String literal, String entry) {
        if (literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            byte[] b = new byte[4];
            String[] octets = literal.split("\\.");
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(octets[i]);
                if (octet > 255) {
                    throw new IllegalArgumentException("not an address block: " + entry);
                }
                b[i] = (byte) octet;
            }
            return b;
        }
        if (literal.indexOf(':') < 0 || !literal.matches("[0-9a-f:.]+")) {
            throw new IllegalArgumentException("not an address block: " + entry);
        }
        try {
            // with a colon, InetAddress parses an IPv6 literal or fails; it never looks the text up
            InetAddress a = InetAddress.getByName(literal);
            // an IPv4-mapped literal (::ffff:a.b.c.d) comes back as IPv4
            return a instanceof Inet4Address ? mapped(a.getAddress()) : a.getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address block: " + entry);
        }
    }

    private static boolean isMapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    private static byte[] mapped(byte[] v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }

    private static int toInt(byte[] b, int off) {
        return (b[off] & 255) << 24 | (b[off + 1] & 255) << 16 | (b[off + 2] & 255) << 8 | b[off + 3] & 255;
    }

    private static long toLong(byte[] b, int off) {
        return (long) toInt(b, off) << 32 | toInt(b, off + 4) & 0xffff_ffffL;
    }
}
