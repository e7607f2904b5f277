package dev.slipway.dns.server;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** Which clients may ask: a list of networks in CIDR notation. Checking an IPv4 client allocates nothing. */
final class ClientFilter {

    private final int[] v4Networks;
    private final int[] v4Masks;
    private final byte[][] v6Networks;
    private final int[] v6Bits;

    private ClientFilter(int[] v4Networks, int[] v4Masks, byte[][] v6Networks, int[] v6Bits) {
        this.v4Networks = v4Networks;
        this.v4Masks = v4Masks;
        this.v6Networks = v6Networks;
        this.v6Bits = v6Bits;
    }

    /** Parses {@code 127.0.0.0/8}, {@code ::1/128}, {@code 192.168.65.7} (a single host) ... */
    static ClientFilter of(String[] cidrs) {
        List<int[]> v4 = new ArrayList<>();
        List<byte[]> v6 = new ArrayList<>();
        List<Integer> v6bits = new ArrayList<>();
        for (String cidr : cidrs) {
            String text = cidr.trim();
            if (text.isEmpty()) {
                continue;
            }
            int slash = text.indexOf('/');
            String address = slash < 0 ? text : text.substring(0, slash);
            if (!address.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                throw new IllegalArgumentException("not an address: " + cidr);
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(address).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an address: " + cidr, e);
            }
            int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
            if (bits < 0 || bits > bytes.length * 8) {
                throw new IllegalArgumentException("bad prefix length: " + cidr);
            }
            if (bytes.length == 4) {
                int mask = bits == 0 ? 0 : -1 << (32 - bits);
                v4.add(new int[] {toInt(bytes) & mask, mask});
            } else {
                v6.add(bytes);
                v6bits.add(bits);
            }
        }
        return new ClientFilter(v4.stream().mapToInt(a -> a[0]).toArray(), v4.stream().mapToInt(a -> a[1]).toArray(),
                v6.toArray(new byte[0][]), v6bits.stream().mapToInt(Integer::intValue).toArray());
    }

    boolean allows(InetSocketAddress client) {
        if (client == null) {
            return false;
        }
        InetAddress address = client.getAddress();
        if (address instanceof Inet4Address) {
            // Inet4Address.hashCode() is its address as an int; getAddress() would copy an array
            int ip = address.hashCode();
            for (int i = 0; i < v4Networks.length; i++) {
                if ((ip & v4Masks[i]) == v4Networks[i]) {
                    return true;
                }
            }
            return false;
        }
        if (address == null) {
            return false;
        }
        byte[] bytes = address.getAddress();
        if (bytes.length == 16 && isV4Mapped(bytes)) {
            int ip = ((bytes[12] & 0xFF) << 24) | ((bytes[13] & 0xFF) << 16) | ((bytes[14] & 0xFF) << 8) | (bytes[15] & 0xFF);
            for (int i = 0; i < v4Networks.length; i++) {
                if ((ip & v4Masks[i]) == v4Networks[i]) {
                    return true;
                }
            }
        }
        for (int i = 0; i < v6Networks.length; i++) {
            if (bytes.length == 16 && prefixMatches(bytes, v6Networks[i], v6Bits[i])) {
                return true;
            }
        }
        return false;
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }

    private static boolean prefixMatches(byte[] address, byte[] network, int bits) {
        int full = bits / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = bits % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (address[full] & mask) == (network[full] & mask);
    }

    private static int toInt(byte[] b) {
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }
}
