package dev.slipway.helper.hosts;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One validated hosts line: an IP literal and host names. Validation is by whitelist patterns, so
 * no control character, whitespace or comment sign can reach the file (no line injection).
 */
public record HostsEntry(String address, List<String> names) {

    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    public HostsEntry {
        if (!validAddress(address)) {
            throw new IllegalArgumentException("not an IP address literal: " + printable(address));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a hosts entry needs at least one name");
        }
        for (String name : names) {
            if (!validName(name)) {
                throw new IllegalArgumentException("not a valid host name: " + printable(name));
            }
        }
        names = List.copyOf(names);
    }

    public static HostsEntry of(String address, String... names) {
        return new HostsEntry(address, List.of(names));
    }

    static boolean validAddress(String address) {
        if (address == null) {
            return false;
        }
        if (IPV4.matcher(address).matches()) {
            return true;
        }
        if (!IPV6_CHARS.matcher(address).matches() || !address.contains(":")) {
            return false;
        }
        try {
            // Only hex digits, colons and dots reach here, so this parses a literal and never resolves.
            return java.net.InetAddress.getByName(address) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static boolean validName(String name) {
        if (name == null || name.isEmpty() || name.length() > 253) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    String line() {
        return address + " " + String.join(" ", names);
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
