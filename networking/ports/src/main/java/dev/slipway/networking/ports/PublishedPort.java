package dev.slipway.networking.ports;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * One published port in gvisor-tap-vsock's terms: {@code local} is {@code HOST:PORT} (or a socket
 * path for {@code unix}), {@code remote} is {@code GUESTIP:PORT} (or {@code tcp://GUESTIP:PORT}
 * for {@code unix}). With a {@code via} (a guest's IPv4 address, empty for none), {@code remote} is
 * an address behind that guest (a container on its bridge) and the stack reaches it through the
 * guest ({@code tcp} and {@code udp} only).
 */
record PublishedPort(String protocol, String local, String remote, String via) {

    static final String TCP = "tcp", UDP = "udp", UNIX = "unix";

    PublishedPort {
        if (via == null) {
            via = "";
        }
    }

    PublishedPort(String protocol, String local, String remote) {
        this(protocol, local, remote, "");
    }

    /** The key gvisor-tap-vsock files a port under: protocol and local side. */
    String key() {
        return protocol + "/" + local;
    }

    /** The stored form: {@code protocol local remote}, then {@code via} when there is one. */
    String stored() {
        return protocol + " " + local + " " + remote + (via.isEmpty() ? "" : " " + via);
    }

    static PublishedPort fromStored(String s) {
        String[] p = s.trim().split(" ");
        if (p.length != 3 && p.length != 4) {
            throw new IllegalArgumentException("not a stored published port: " + s);
        }
        return new PublishedPort(p[0], p[1], p[2], p.length == 4 ? p[3] : "");
    }

    /** The remote side as {@code slipway ports} shows it. */
    String shownRemote() {
        return via.isEmpty() ? remote : remote + " via " + via;
    }

    /** The guest the remote side is reached through, or null when the remote side is the guest itself. */
    InetAddress viaAddress() {
        if (via.isEmpty()) {
            return null;
        }
        if (UNIX.equals(protocol)) {
            throw new IllegalArgumentException("a unix socket's remote side is the guest itself, not behind one (" + via + ")");
        }
        InetAddress address = literal(via);
        if (!(address instanceof java.net.Inet4Address)) {
            throw new IllegalArgumentException("the guest to go through needs a literal IPv4 address, not '" + via + "'");
        }
        return address;
    }

    /** {@code ip} as an address when it is an IPv4 or IPv6 literal (never looked up), else null. */
    static InetAddress literal(String ip) {
        try {
            if (ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                for (String octet : ip.split("\\.")) {
                    if (Integer.parseInt(octet) > 255) {
                        return null;
                    }
                }
                return InetAddress.getByName(ip);
            }
            // in brackets the JDK reads an IPv6 literal or refuses it, and never resolves a name
            return ip.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*") ? InetAddress.getByName("[" + ip + "]") : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Checks the shape and returns the host address to listen on (null for {@code unix}). */
    InetSocketAddress localAddress() {
        requireProtocol();
        if (UNIX.equals(protocol)) {
            return null;
        }
        return hostPort(local, "local", true);
    }

    Path localPath() {
        if (!local.startsWith("/")) {
            throw new IllegalArgumentException("a unix socket's local side must be an absolute path, not '" + local + "'");
        }
        return Path.of(local);
    }

    InetSocketAddress remoteAddress() {
        requireProtocol();
        String r = remote;
        if (UNIX.equals(protocol)) {
            URI uri;
            try {
                uri = new URI(remote);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("failed to parse remote uri :" + remote + " : " + e.getMessage());
            }
            if (!"tcp".equals(uri.getScheme())) {
                throw new IllegalArgumentException("remote protocol for unix forwarder is not implemented: " + uri.getScheme());
            }
            r = uri.getHost() + ":" + uri.getPort();
        }
        InetSocketAddress a = hostPort(r, "remote", false);
        if (a.getPort() == 0) {
            throw new IllegalArgumentException("the remote port must be 1..65535: " + remote);
        }
        return a;
    }

    private void requireProtocol() {
        if (!TCP.equals(protocol) && !UDP.equals(protocol) && !UNIX.equals(protocol)) {
            throw new IllegalArgumentException("unknown protocol " + protocol);
        }
    }

    /**
     * {@code HOST:PORT} with a literal host: IPv4, or IPv6 in brackets ({@code [::1]:8080},
     * {@code [::]:8080}), as gvisor-tap-vsock reads them; an empty host means all addresses.
     */
    private static InetSocketAddress hostPort(String s, String what, boolean emptyHostAllowed) {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address " + s + ": missing port in address");
        }
        String host = s.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the " + what + " port of '" + s + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the " + what + " port of '" + s + "' is out of range");
        }
        if (host.isEmpty()) {
            if (!emptyHostAllowed) {
                throw new IllegalArgumentException("the " + what + " side needs an IP address: " + s);
            }
            host = "0.0.0.0";
        }
        boolean ipv6 = host.startsWith("[") && host.endsWith("]") && host.length() > 2;
        if (ipv6) {
            host = host.substring(1, host.length() - 1);
            if (!host.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                throw new IllegalArgumentException("the " + what + " side needs a literal IPv6 address in brackets, not '"
                        + host + "'");
            }
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("an IPv6 " + what + " address goes in brackets, like [::1]:8080, not '" + s + "'");
        } else if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("the " + what + " side needs a literal IP address, not '" + host + "'");
        }
        try {
            InetAddress address = InetAddress.getByName(host);
            if (ipv6 && !(address instanceof java.net.Inet6Address)) {
                throw new IllegalArgumentException("the " + what + " side '" + s + "' is an IPv4-mapped address: give it as IPv4");
            }
            return new InetSocketAddress(address, port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad " + what + " address '" + host + "'");
        }
    }
}
