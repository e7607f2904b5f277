package dev.slipway.networking.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An HTTP/1.x request line and header block as a guest sent it: bounded in size, strictly split
 * into lines. Hand-written because OkHttp is a client and has no server-side request reader.
 */
final class RequestHead {
    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_HEADERS = 200;

    final String method;
    final String target;
    final String version;
    final List<String[]> headers;
    final byte[] raw;

    private RequestHead(String method, String target, String version, List<String[]> headers, byte[] raw) {
        this.method = method;
        this.target = target;
        this.version = version;
        this.headers = headers;
        this.raw = raw;
    }

    /** Thrown for a request that cannot be read; the message is safe to show the guest. */
    static final class BadRequest extends IOException {
        BadRequest(String message) {
            super(message);
        }
    }

    /** Reads one head; null at a clean end of stream before any byte. */
    static RequestHead read(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(1024);
        int last = 0; // the last four bytes, to find the blank line that ends the head
        while (last != 0x0d0a0d0a && (last & 0xffff) != 0x0a0a) {
            int c = in.read();
            if (c < 0) {
                if (buf.size() == 0) {
                    return null;
                }
                throw new BadRequest("the request ended inside its header");
            }
            if (buf.size() >= MAX_BYTES) {
                throw new BadRequest("the request header is larger than " + MAX_BYTES + " bytes");
            }
            if (buf.size() == 0 && (c == '\r' || c == '\n')) {
                continue; // blank lines before a request are allowed (RFC 9112 2.2)
            }
            buf.write(c);
            last = last << 8 | c;
        }
        byte[] raw = buf.toByteArray();
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n");
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.") || requestLine[0].isEmpty()
                || !requestLine[0].chars().allMatch(ch -> ch >= 'A' && ch <= 'Z') || requestLine[1].isEmpty()) {
            throw new BadRequest("not an HTTP/1.x request line");
        }
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t' || line.substring(0, colon).contains(" ")) {
                throw new BadRequest("malformed header line");
            }
            if (headers.size() >= MAX_HEADERS) {
                throw new BadRequest("too many header lines");
            }
            headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
        }
        return new RequestHead(requestLine[0], requestLine[1], requestLine[2], headers, raw);
    }

    String header(String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                return h[1];
            }
        }
        return null;
    }

    /** The host name of the Host header (without port, lower case), or null when absent or not a name. */
    String hostName() {
        String host = header("Host");
        return host == null ? null : ClientHello.hostName(stripPort(host));
    }

    /** The port of the Host header, or {@code fallback}. */
    int hostPort(int fallback) {
        String host = header("Host");
        if (host == null) {
            return fallback;
        }
        int colon = host.lastIndexOf(':');
        if (colon < 0 || host.endsWith("]")) {
            return fallback;
        }
        try {
            int port = Integer.parseInt(host.substring(colon + 1));
            return port > 0 && port < 65536 ? port : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    static String stripPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return colon > 0 && hostPort.indexOf(':') == colon ? hostPort.substring(0, colon) : hostPort;
    }

    boolean wantsClose() {
        String connection = header("Connection");
        boolean close = connection != null && connection.toLowerCase(Locale.ROOT).contains("close");
        boolean keepAlive = connection != null && connection.toLowerCase(Locale.ROOT).contains("keep-alive");
        return close || version.equals("HTTP/1.0") && !keepAlive;
    }
}
