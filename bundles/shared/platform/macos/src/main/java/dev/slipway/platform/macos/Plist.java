package dev.slipway.platform.macos;

import java.util.List;
import java.util.Map;

/** Writes launchd property lists (XML plist 1.0) for the few value types launchd jobs use. */
final class Plist {

    private Plist() {
    }

    static String of(Map<String, Object> dictionary) {
        StringBuilder out = new StringBuilder();
        out.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.append("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n");
        out.append("<plist version=\"1.0\">\n");
        value(out, dictionary, 0);
        out.append("</plist>\n");
        return out.toString();
    }

    private static void value(StringBuilder out, Object value, int depth) {
        String indent = "\t".repeat(depth);
        if (value instanceof Map<?, ?> map) {
            out.append(indent).append("<dict>\n");
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(indent).append("\t<key>").append(escape(String.valueOf(e.getKey()))).append("</key>\n");
                value(out, e.getValue(), depth + 1);
            }
            out.append(indent).append("</dict>\n");
        } else if (value instanceof List<?> list) {
            out.append(indent).append("<array>\n");
            for (Object item : list) {
                value(out, item, depth + 1);
            }
            out.append(indent).append("</array>\n");
        } else if (value instanceof Boolean b) {
            out.append(indent).append(b ? "<true/>" : "<false/>").append('\n');
        } else if (value instanceof Integer || value instanceof Long) {
            out.append(indent).append("<integer>").append(value).append("</integer>\n");
        } else {
            out.append(indent).append("<string>").append(escape(String.valueOf(value))).append("</string>\n");
        }
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n') {
                        throw new IllegalArgumentException("a control character cannot be written to a plist");
                    }
                    out.append(c);
                }
            }
        }
        return out.toString();
    }
}
