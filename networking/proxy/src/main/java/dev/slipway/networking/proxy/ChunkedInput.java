package dev.slipway.networking.proxy;

import java.io.IOException;
import java.io.InputStream;

/**
 * A chunked request body (RFC 9112 section 7.1) decoded from the guest's connection: the chunks'
 * data, then end of stream once the last chunk and the trailer section were read, leaving the
 * connection at the next request. Chunk extensions and trailer fields are read and dropped. Bounded:
 * a size or trailer line longer than {@value #MAX_LINE} bytes, more than {@value #MAX_TRAILER_LINES}
 * trailer lines, or a size past {@link Long#MAX_VALUE} is malformed.
 */
final class ChunkedInput extends InputStream {
    static final int MAX_LINE = 4096;
    static final int MAX_TRAILER_LINES = 64;

    /** The guest's body is not valid chunked coding: Slipway answers 400 and closes. */
    static final class Malformed extends IOException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super("malformed chunked request body: " + message);
        }
    }

    private final InputStream in;
    private final StringBuilder line = new StringBuilder();
    private long left;
    private boolean first = true;
    private boolean done;

    ChunkedInput(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (left == 0 && !nextChunk()) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
            throw new Malformed("the connection ended inside a chunk");
        }
        left -= n;
        return n;
    }

    /** Reads the next chunk's size line; false at the last chunk (whose trailer section is read too). */
    private boolean nextChunk() throws IOException {
        if (done) {
            return false;
        }
        if (!first) {
            String end = readLine();
            if (!end.isEmpty()) {
                throw new Malformed("chunk data not followed by CRLF");
            }
        }
        first = false;
        String sizeLine = readLine();
        int semicolon = sizeLine.indexOf(';');
        String hex = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).stripTrailing();
        if (hex.isEmpty() || hex.length() > 16) {
            throw new Malformed("bad chunk size \"" + printable(sizeLine) + "\"");
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            int digit = Character.digit(hex.charAt(i), 16);
            if (digit < 0 || size > (Long.MAX_VALUE >> 4)) {
                throw new Malformed("bad chunk size \"" + printable(sizeLine) + "\"");
            }
            size = size << 4 | digit;
        }
        if (size > 0) {
            left = size;
            return true;
        }
        for (int i = 0; ; i++) {
            if (i == MAX_TRAILER_LINES) {
                throw new Malformed("more than " + MAX_TRAILER_LINES + " trailer lines");
            }
            if (readLine().isEmpty()) {
                break;
            }
        }
        done = true;
        return false;
    }

    /** One CRLF-terminated line (a bare LF is taken as its end too, as RFC 9112 allows), without it. */
    private String readLine() throws IOException {
        line.setLength(0);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new Malformed("the connection ended inside the chunk framing");
            }
            if (c == '\n') {
                int last = line.length() - 1;
                if (last >= 0 && line.charAt(last) == '\r') {
                    line.setLength(last);
                }
                return line.toString();
            }
            if (line.length() == MAX_LINE) {
                throw new Malformed("a chunk framing line longer than " + MAX_LINE + " bytes");
            }
            line.append((char) c);
        }
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
