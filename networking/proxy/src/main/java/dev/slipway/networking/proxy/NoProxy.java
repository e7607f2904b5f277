package dev.slipway.networking.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The destinations reached without the proxy, from a NO_PROXY-style list: {@code *} (all), host
 * names that match themselves and their sub-domains ({@code example.com}, {@code .example.com},
 * {@code *.example.com}), wildcards ({@code 10.*}, {@code *.corp.*}), IPv4 addresses, CIDR blocks
 * including the short form macOS writes ({@code 169.254/16}), and {@code <local>} (names without
 * a dot). A {@code :port} suffix is ignored: the exception then holds for every port.
 */
final class NoProxy {
    static final NoProxy NONE = new NoProxy(List.of());

    private final boolean all;
    private final boolean local;
    private final String[] suffixes;
    private final Pattern[] wildcards;
    private final int[] networks;
    private final int[] masks;
    private final List<String> entries;

    NoProxy(List<String> list) {
        entries = List.copyOf(list);
        boolean any = false;
        boolean simple = false;
        List<String> names = new ArrayList<>();
        List<Pattern> globs = new ArrayList<>();
        List<int[]> blocks = new ArrayList<>();
        for (String raw : list) {
            String e = raw.strip().toLowerCase(Locale.ROOT);
            if (e.isEmpty()) {
                continue;
            }
            if (e.equals("*")) {
                any = true;
                continue;
            }
            if (e.equals("<local>")) {
                simple = true;
                continue;
            }
            int[] block = cidr(e);
            if (block != null) {
                blocks.add(block);
                continue;
            }
            e = stripPort(e);
            if (e.startsWith("*.") && e.indexOf('*', 1) < 0) {
                e = e.substring(2);
            } else if (e.startsWith(".")) {
                e = e.substring(1);
            }
            if (e.endsWith(".")) {
                e = e.substring(0, e.length() - 1);
            }
            if (e.contains("*")) {
                globs.add(Pattern.compile(("\\Q" + e.replace("*", "\\E.*\\Q") + "\\E")));
            } else if (!e.isEmpty()) {
                names.add(e);
            }
        }
        all = any;
        local = simple;
        suffixes = names.toArray(String[]::new);
        wildcards = globs.toArray(Pattern[]::new);
        networks = new int[blocks.size()];
        masks = new int[blocks.size()];
        for (int i = 0; i < networks.length; i++) {
            masks[i] = blocks.get(i)[1];
            networks[i] = blocks.get(i)[0] & masks[i];
        }
    }

    List<String> entries() {
        return entries;
    }

    boolean isEmpty() {
        return !all && !local && suffixes.length == 0 && wildcards.length == 0 && networks.length == 0;
    }

    /** Whether the address alone is excluded; allocates nothing (asked for every guest SYN). */
    boolean matchesAddress(int ip) {
        if (all) {
            return true;
        }
        for (int i = 0; i < networks.length; i++) {
            if ((ip & masks[i]) == networks[i]) {
                return true;
            }
        }
        return false;
    }

    /** Whether the destination, by {@code name} (lower case, may be an address in text) or address, is excluded. */
    boolean matches(String name, int ip) {
        if (matchesAddress(ip)) {
            return true;
        }
        if (name == null) {
            return false;
        }
        int[] literal = cidr(name);
        if (literal != null && matchesAddress(literal[0])) {
            return true;
        }
        if (literal == null && local && name.indexOf('.') < 0) {
            return true;
        }
        for (String s : literal != null ? new String[0] : suffixes) {
            if (name.equals(s) || name.endsWith(s) && name.charAt(name.length() - s.length() - 1) == '.') {
                return true;
            }
        }
        for (Pattern p : wildcards) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    private static String stripPort(String e) {
        int colon = e.lastIndexOf(':');
        return colon > 0 && e.indexOf(':') == colon && e.substring(colon + 1).matches("[0-9]+") ? e.substring(0, colon) : e;
    }

    /** {address, mask} for {@code a.b.c.d}, {@code a.b.c.d/n} or the short {@code a.b/n}; null for anything else. */
    static int[] cidr(String text) {
        String t = text;
        int prefix = -1;
        int slash = t.indexOf('/');
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                return null;
            }
            if (prefix < 0 || prefix > 32) {
                return null;
            }
            t = t.substring(0, slash);
        }
        String[] parts = t.split("\\.", -1);
        if (parts.length < 1 || parts.length > 4 || (prefix < 0 && parts.length != 4)) {
            return null;
        }
        int ip = 0;
        for (int i = 0; i < 4; i++) {
            int octet = 0;
            if (i < parts.length) {
                String p = parts[i];
                if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                    return null;
                }
                octet = Integer.parseInt(p);
                if (octet > 255) {
                    return null;
                }
            }
            ip = ip << 8 | octet;
        }
        int bits = prefix < 0 ? 32 : prefix;
        int mask = bits == 0 ? 0 : -1 << (32 - bits);
        return new int[] {ip, mask};
    }
}
