package dev.slipway.api.proxy;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * One upstream proxy: {@code scheme://[user[:password]@]host[:port]}. Only {@code http} proxies
 * carry Slipway's traffic; other schemes (socks5, https) are kept so that status can show them.
 *
 * @param user     the user name, or null
 * @param password the password, or null; never printed by {@link #toString()}
 */
public record ProxyServer(String scheme, String host, int port, String user, String password) {

    public ProxyServer {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(host, "host");
        if (host.isBlank() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad proxy address " + host + ":" + port);
        }
        scheme = scheme.toLowerCase(Locale.ROOT);
    }

    public boolean hasCredentials() {
        return user != null;
    }

    /**
     * Parses a proxy as environment variables and system settings write it: with or without a
     * scheme ({@code http} by default), with an optional port (80 for http, 443 for https, 1080
     * for socks) and URL-encoded user information.
     *
     * @throws IllegalArgumentException when {@code text} is not a proxy address
     */
    public static ProxyServer parse(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty proxy address");
        }
        if (!s.contains("://")) {
            s = "http://" + s;
        }
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a proxy address: " + redact(text), e);
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost();
        if (host == null) {
            throw new IllegalArgumentException("no host in proxy address: " + redact(text));
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort();
        if (port < 0) {
            port = switch (scheme) {
                case "https" -> 443;
                case "socks", "socks4", "socks4a", "socks5", "socks5h" -> 1080;
                default -> 80;
            };
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            user = URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
            password = colon < 0 ? null : URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
        }
        return new ProxyServer(scheme, host, port, user, password);
    }

    /** {@code text} with the password of a URL replaced, for messages. */
    public static String redact(String text) {
        return text.replaceAll("(://[^:/@\\s]*:)[^@\\s]*@", "$1***@");
    }

    @Override
    public String toString() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return scheme + "://" + (user == null ? "" : user + (password == null ? "" : ":***") + "@") + h + ":" + port;
    }
}
