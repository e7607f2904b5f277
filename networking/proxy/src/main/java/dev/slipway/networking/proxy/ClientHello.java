package dev.slipway.networking.proxy;

import java.nio.charset.StandardCharsets;

/**
 * Finds the server name (SNI) in the first TLS record a client sends. Hand-written: the JDK's
 * TLS engine offers no way to read a ClientHello it is not itself serving, and the only libraries
 * that do (Netty's SniHandler) would bring a whole network framework for thirty lines of parsing.
 * Every length is checked against the bytes actually present; anything malformed gives no name.
 */
final class ClientHello {
    /** The most a client may send before its name is needed: one TLS record with its header. */
    static final int MAX_RECORD = 5 + 16384;

    private ClientHello() {}

    /**
     * How many bytes the first record takes, from its 5-byte header; -1 when {@code b} does not
     * start a TLS handshake record.
     */
    static int recordLength(byte[] b, int length) {
        if (length < 5) {
            return 0;
        }
        if (b[0] != 22 || b[1] != 3) {
            return -1;
        }
        int len = (b[3] & 0xff) << 8 | b[4] & 0xff;
        return len == 0 || len > 16384 ? -1 : 5 + len;
    }

    /** The host name the ClientHello in {@code b[0..length)} asks for, lower case; null if none. */
    static String serverName(byte[] b, int length) {
        int record = recordLength(b, length);
        if (record <= 0) {
            return null;
        }
        int end = Math.min(length, record);
        int p = 5;
        if (p + 4 > end || b[p] != 1) { // handshake type client_hello
            return null;
        }
        p += 4 + 2 + 32; // handshake header, client version, random
        if (p + 1 > end) {
            return null;
        }
        p += 1 + (b[p] & 0xff); // session id
        if (p + 2 > end) {
            return null;
        }
        p += 2 + u16(b, p); // cipher suites
        if (p + 1 > end) {
            return null;
        }
        p += 1 + (b[p] & 0xff); // compression methods
        if (p + 2 > end) {
            return null;
        }
        int extensionsEnd = Math.min(end, p + 2 + u16(b, p));
        p += 2;
        while (p + 4 <= extensionsEnd) {
            int type = u16(b, p);
            int len = u16(b, p + 2);
            p += 4;
            if (p + len > extensionsEnd) {
                return null;
            }
            if (type == 0) {
                return nameFromList(b, p, p + len);
            }
            p += len;
        }
        return null;
    }

    private static String nameFromList(byte[] b, int p, int end) {
        if (p + 2 > end) {
            return null;
        }
        int listEnd = Math.min(end, p + 2 + u16(b, p));
        p += 2;
        while (p + 3 <= listEnd) {
            int type = b[p] & 0xff;
            int len = u16(b, p + 1);
            p += 3;
            if (p + len > listEnd) {
                return null;
            }
            if (type == 0) {
                return hostName(new String(b, p, len, StandardCharsets.ISO_8859_1));
            }
            p += len;
        }
        return null;
    }

    /** A DNS host name as sent on the wire, or null when it is not one (no control or shell characters pass). */
    static String hostName(String text) {
        String s = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (s.isEmpty() || s.length() > 253) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_')) {
                return null;
            }
        }
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    private static int u16(byte[] b, int p) {
        return (b[p] & 0xff) << 8 | b[p + 1] & 0xff;
    }
}
