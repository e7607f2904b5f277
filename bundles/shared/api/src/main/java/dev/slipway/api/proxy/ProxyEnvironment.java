package dev.slipway.api.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads the conventional proxy variables: {@code http_proxy}, {@code https_proxy},
 * {@code all_proxy}, {@code no_proxy}, each in lower or upper case (lower case wins, as in curl).
 * A pure function shared by the platform bundles.
 */
public final class ProxyEnvironment {

    public static final String SOURCE = "environment";

    private ProxyEnvironment() {}

    /**
     * The settings {@code env} holds, or {@link ProxyConfig#none} when it sets no proxy.
     *
     * @param problems hears one message per variable that could not be read (it is then ignored)
     */
    public static ProxyConfig parse(Map<String, String> env, Consumer<String> problems) {
        ProxyServer http = server(env, "http_proxy", problems);
        ProxyServer https = server(env, "https_proxy", problems);
        ProxyServer all = server(env, "all_proxy", problems);
        String no = value(env, "no_proxy");
        return new ProxyConfig(http, https, all, no == null ? List.of() : splitList(no, ","), null, false, SOURCE);
    }

    /** Splits a list of exceptions on {@code separators}, dropping blanks. */
    public static List<String> splitList(String text, String separators) {
        List<String> out = new ArrayList<>();
        for (String part : text.split("[" + java.util.regex.Pattern.quote(separators) + "\\s]+")) {
            String p = part.strip();
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    private static ProxyServer server(Map<String, String> env, String name, Consumer<String> problems) {
        String v = value(env, name);
        if (v == null) {
            return null;
        }
        try {
            return ProxyServer.parse(v);
        } catch (IllegalArgumentException e) {
            problems.accept(name + ": " + e.getMessage());
            return null;
        }
    }

    private static String value(Map<String, String> env, String lower) {
        String v = env.get(lower);
        if (v == null || v.isBlank()) {
            v = env.get(lower.toUpperCase(Locale.ROOT));
        }
        return v == null || v.isBlank() ? null : v.strip();
    }
}
