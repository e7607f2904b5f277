package dev.slipway.helper.hosts;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A hosts file's content and Slipway's block in it. The text is held byte-transparently (UTF-8
 * files as one char per byte, UTF-16LE files as one char per code unit) so that everything outside
 * the block is written back exactly as read, whatever it contains; the block itself is ASCII.
 */
public final class HostsContent {

    public static final String BEGIN = "# Added by Slipway";
    public static final String END = "# End of Slipway section";

    /** The encodings a hosts file is kept in. */
    public enum Encoding {
        UTF8(new byte[0]), UTF8_BOM(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}),
        UTF16LE_BOM(new byte[] {(byte) 0xFF, (byte) 0xFE});

        final byte[] bom;

        Encoding(byte[] bom) {
            this.bom = bom;
        }
    }

    /** A hosts file that cannot be edited safely (e.g. a block without its end marker). */
    public static final class MalformedHostsException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedHostsException(String message) {
            super(message);
        }
    }

    private final Encoding encoding;
    private final String text;
    /** The lines, split once on first use (a 1 MB file has tens of thousands). */
    private List<String> lines;

    private HostsContent(Encoding encoding, String text) {
        this.encoding = encoding;
        this.text = text;
    }

    public static HostsContent decode(byte[] bytes) throws MalformedHostsException {
        if (startsWith(bytes, Encoding.UTF16LE_BOM.bom)) {
            int length = bytes.length - 2;
            if (length % 2 != 0) {
                throw new MalformedHostsException("the hosts file has a UTF-16LE mark but an odd number of bytes");
            }
            char[] units = new char[length / 2];
            for (int i = 0; i < units.length; i++) {
                units[i] = (char) ((bytes[2 + 2 * i] & 0xff) | (bytes[3 + 2 * i] & 0xff) << 8);
            }
            return new HostsContent(Encoding.UTF16LE_BOM, new String(units));
        }
        Encoding encoding = startsWith(bytes, Encoding.UTF8_BOM.bom) ? Encoding.UTF8_BOM : Encoding.UTF8;
        int offset = encoding.bom.length;
        return new HostsContent(encoding, new String(bytes, offset, bytes.length - offset, StandardCharsets.ISO_8859_1));
    }

    public byte[] encode() {
        byte[] bom = encoding.bom;
        if (encoding == Encoding.UTF16LE_BOM) {
            byte[] out = new byte[bom.length + text.length() * 2];
            System.arraycopy(bom, 0, out, 0, bom.length);
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                out[bom.length + 2 * i] = (byte) c;
                out[bom.length + 2 * i + 1] = (byte) (c >>> 8);
            }
            return out;
        }
        byte[] body = text.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, out, 0, bom.length);
        System.arraycopy(body, 0, out, bom.length, body.length);
        return out;
    }

    public Encoding encoding() {
        return encoding;
    }

    /** The file's own line separator: that of its first line, else {@code fallback}. */
    public String lineSeparator(String fallback) {
        int newline = text.indexOf('\n');
        if (newline < 0) {
            return fallback;
        }
        return newline > 0 && text.charAt(newline - 1) == '\r' ? "\r\n" : "\n";
    }

    /** The lines outside Slipway's block(s), each with its own line terminator. */
    public List<String> linesOutsideBlock() throws MalformedHostsException {
        List<String> outside = new ArrayList<>();
        List<String> lines = lines();
        int[] block = blockRange(lines, 0);
        int i = 0;
        while (i < lines.size()) {
            if (block != null && i == block[0]) {
                i = block[1] + 1;
                block = blockRange(lines, i);
                continue;
            }
            outside.add(lines.get(i++));
        }
        return outside;
    }

    /** The entries inside Slipway's block, as written (empty when there is no block). */
    public List<String> blockLines() throws MalformedHostsException {
        List<String> lines = lines();
        int[] block = blockRange(lines, 0);
        if (block == null) {
            return List.of();
        }
        return lines.subList(block[0] + 1, block[1]).stream().map(HostsContent::stripTerminator).toList();
    }

    /** Whether a line outside the block already maps {@code localhost} to 127.0.0.1. */
    public boolean hasLocalhost() throws MalformedHostsException {
        for (String line : linesOutsideBlock()) {
            String content = stripTerminator(line);
            int hash = content.indexOf('#');
            String[] tokens = (hash >= 0 ? content.substring(0, hash) : content).trim().split("[ \t]+");
            if (tokens.length > 1 && tokens[0].equals("127.0.0.1")) {
                for (int t = 1; t < tokens.length; t++) {
                    if (tokens[t].toLowerCase(Locale.ROOT).equals("localhost")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * This content with exactly one Slipway block holding {@code entries}, at the place of the
     * first existing block or at the end.
     */
    public HostsContent withBlock(List<HostsEntry> entries, String fallbackSeparator) throws MalformedHostsException {
        String separator = lineSeparator(fallbackSeparator);
        StringBuilder block = new StringBuilder();
        block.append(BEGIN).append(separator);
        for (HostsEntry entry : entries) {
            block.append(entry.line()).append(separator);
        }
        block.append(END).append(separator);
        return replaceBlock(block.toString(), separator);
    }

    /** This content without Slipway's block(s). */
    public HostsContent withoutBlock() throws MalformedHostsException {
        return replaceBlock("", "");
    }

    private HostsContent replaceBlock(String block, String separator) throws MalformedHostsException {
        List<String> lines = lines();
        StringBuilder out = new StringBuilder(text.length() + block.length());
        int[] range = blockRange(lines, 0);
        boolean placed = false;
        int i = 0;
        while (i < lines.size()) {
            if (range != null && i == range[0]) {
                if (!placed) {
                    out.append(block);
                    placed = true;
                }
                i = range[1] + 1;
                range = blockRange(lines, i);
                continue;
            }
            out.append(lines.get(i++));
        }
        if (!placed && !block.isEmpty()) {
            if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
                out.append(separator);
            }
            out.append(block);
        }
        return new HostsContent(encoding, out.toString());
    }

    private List<String> lines() {
        if (lines == null) {
            lines = java.util.Collections.unmodifiableList(split(text));
        }
        return lines;
    }

    private static List<String> split(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int newline = text.indexOf('\n', start);
            int end = newline < 0 ? text.length() : newline + 1;
            lines.add(text.substring(start, end));
            start = end;
        }
        return lines;
    }

    /** The [begin, end] line indexes of the first block at or after {@code from}, or null. */
    private static int[] blockRange(List<String> lines, int from) throws MalformedHostsException {
        for (int i = from; i < lines.size(); i++) {
            if (marker(lines.get(i)).equals(BEGIN)) {
                for (int j = i + 1; j < lines.size(); j++) {
                    String m = marker(lines.get(j));
                    if (m.equals(END)) {
                        return new int[] {i, j};
                    }
                    if (m.equals(BEGIN)) {
                        break;
                    }
                }
                throw new MalformedHostsException("the hosts file has \"" + BEGIN + "\" at line " + (i + 1)
                        + " without \"" + END + "\" after it; fix the file by hand, Slipway leaves it alone");
            }
        }
        return null;
    }

    private static String marker(String line) {
        return stripTerminator(line).stripTrailing();
    }

    private static String stripTerminator(String line) {
        int end = line.length();
        if (end > 0 && line.charAt(end - 1) == '\n') {
            end--;
        }
        if (end > 0 && line.charAt(end - 1) == '\r') {
            end--;
        }
        return line.substring(0, end);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostsContent other && other.encoding == encoding && other.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + encoding.hashCode();
    }
}
