package dev.slipway.platform.macos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyServer;

/**
 * Reads the output of {@code scutil --proxy}: the top-level keys of the dictionary (HTTP, HTTPS,
 * SOCKS, the exceptions list, the PAC URL, auto-discovery); nested dictionaries such as
 * {@code __SCOPED__} are per-interface copies and are skipped.
 */
final class ScutilProxy {

    static final String SOURCE = "scutil --proxy";

    private ScutilProxy() {}

    static ProxyConfig parse(String output) {
        Map<String, String> top = new HashMap<>();
        List<String> exceptions = new ArrayList<>();
        int depth = 0;
        boolean inExceptions = false;
        for (String raw : output.split("\n")) {
            String line = raw.strip();
            if (line.equals("}")) {
                depth--;
                inExceptions = false;
                continue;
            }
            int colon = line.indexOf(" : ");
            String key = colon < 0 ? line : line.substring(0, colon).strip();
            String value = colon < 0 ? "" : line.substring(colon + 3).strip();
            if (value.endsWith("{")) {
                depth++;
                inExceptions = depth == 2 && key.equals("ExceptionsList");
                continue;
            }
            if (line.endsWith("{")) { // "<dictionary> {" opening the whole output
                depth++;
                continue;
            }
            if (colon < 0) {
                continue;
            }
            if (inExceptions) {
                exceptions.add(value);
            } else if (depth == 1) {
                top.put(key, value);
            }
        }
        if ("1".equals(top.get("ExcludeSimpleHostnames"))) {
            exceptions.add("<local>");
        }
        ProxyServer http = server(top, "HTTP", "http");
        ProxyServer https = server(top, "HTTPS", "http");
        ProxyServer socks = server(top, "SOCKS", "socks5");
        String pac = "1".equals(top.get("ProxyAutoConfigEnable")) ? blankToNull(top.get("ProxyAutoConfigURLString")) : null;
        boolean discovery = "1".equals(top.get("ProxyAutoDiscoveryEnable"));
        return new ProxyConfig(http, https, socks, exceptions, pac, discovery, SOURCE);
    }

    private static ProxyServer server(Map<String, String> top, String prefix, String scheme) {
        if (!"1".equals(top.get(prefix + "Enable"))) {
            return null;
        }
        String host = blankToNull(top.get(prefix + "Proxy"));
        if (host == null) {
            return null;
        }
        try {
            int port = Integer.parseInt(top.getOrDefault(prefix + "Port", scheme.equals("http") ? "80" : "1080"));
            return new ProxyServer(scheme, host, port, blankToNull(top.get(prefix + "User")), null);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
