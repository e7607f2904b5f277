package dev.slipway.platform.windows;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxyServer;

/**
 * Reads the per-user Internet Settings as {@code reg query} prints them: ProxyEnable, ProxyServer
 * (one {@code host:port} for every protocol, or the per-protocol form
 * {@code http=h:p;https=h:p;socks=h:p}), ProxyOverride ({@code ;}-separated, with {@code <local>}),
 * AutoConfigURL and AutoDetect. Only the values of the first key are read, not its sub-keys.
 */
final class InternetSettings {

    static final String KEY = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";
    static final String SOURCE = "HKCU Internet Settings";
    private static final Pattern VALUE = Pattern.compile("^\\s+(.+?)\\s+(REG_[A-Z_]+)(?:\\s+(.*))?$");

    private InternetSettings() {}

    static ProxyConfig parse(String output) {
        Map<String, String> values = new HashMap<>();
        boolean inKey = false;
        for (String line : output.split("\r?\n")) {
            if (line.startsWith("HKEY_")) {
                if (inKey) {
                    break;
                }
                inKey = true;
                continue;
            }
            Matcher m = VALUE.matcher(line);
            if (inKey && m.matches()) {
                values.put(m.group(1).toLowerCase(Locale.ROOT), m.group(3) == null ? "" : m.group(3).strip());
            }
        }
        boolean enabled = dword(values.get("proxyenable")) == 1;
        ProxyServer http = null;
        ProxyServer https = null;
        ProxyServer all = null;
        String servers = values.getOrDefault("proxyserver", "");
        if (enabled && !servers.isBlank()) {
            if (!servers.contains("=")) {
                http = server("http", servers);
                https = http;
            } else {
                for (String part : servers.split(";")) {
                    int eq = part.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String protocol = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                    String address = part.substring(eq + 1).strip();
                    switch (protocol) {
                        case "http" -> http = server("http", address);
                        case "https" -> https = server("http", address);
                        case "socks" -> all = server("socks4", address);
                        default -> { } // ftp and gopher carry nothing of Slipway's
                    }
                }
            }
        }
        List<String> overrides = enabled ? ProxyEnvironment.splitList(values.getOrDefault("proxyoverride", ""), ";")
                : List.of();
        String pac = values.getOrDefault("autoconfigurl", "");
        boolean detect = dword(values.get("autodetect")) == 1;
        return new ProxyConfig(http, https, all, overrides, pac.isBlank() ? null : pac, detect, SOURCE);
    }

    private static ProxyServer server(String scheme, String address) {
        if (address.isBlank()) {
            return null;
        }
        try {
            return ProxyServer.parse(address.contains("://") ? address : scheme + "://" + address);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static long dword(String value) {
        if (value == null) {
            return 0;
        }
        try {
            return value.startsWith("0x") ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
