package dev.slipway.networking.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import javax.net.SocketFactory;

import dev.slipway.networking.api.CidrList;
import okhttp3.Dns;

/**
 * The stack's refused destinations ({@link dev.slipway.networking.api.GuestNetwork#refusedDestinations()},
 * cloud metadata by default) on the proxy's paths, where the guest may name a destination instead
 * of addressing it: address literals are checked as given, names after resolution, and every
 * socket the proxy opens directly once more by the address it actually connects to, so that a
 * name answering differently the second time (DNS rebinding) gains nothing.
 */
final class MetadataFilter {
    private final CidrList refused;
    private final Dns dns;
    private final SocketFactory sockets = new RefusingSockets();

    MetadataFilter(CidrList refused, Dns dns) {
        this.refused = refused;
        this.dns = dns;
    }

    CidrList refused() {
        return refused;
    }

    boolean refuses(InetAddress address) {
        return refused.contains(address);
    }

    /**
     * Whether {@code host} is an address literal (IPv6 with or without brackets) in the list;
     * names are left to {@link #lookup}, through an upstream proxy to the proxy.
     */
    boolean refusesLiteral(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.indexOf(':') < 0) {
            int[] ip = h.indexOf('/') < 0 ? NoProxy.cidr(h) : null;
            return ip != null && refused.containsIpv4(ip[0]);
        }
        if (!h.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            // with a colon InetAddress parses an IPv6 literal or fails; it never looks the text up
            return refuses(InetAddress.getByName(h));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** {@code name}'s addresses without the refused ones; {@link Refused} when none is left. */
    List<InetAddress> lookup(String name) throws UnknownHostException {
        List<InetAddress> usable = new ArrayList<>();
        for (InetAddress a : dns.lookup(name)) {
            if (!refuses(a)) {
                usable.add(a);
            }
        }
        if (usable.isEmpty()) {
            throw new Refused(name + " resolves only to refused addresses (cloud metadata)");
        }
        return usable;
    }

    /** Sockets that will not connect to a refused address. */
    SocketFactory socketFactory() {
        return sockets;
    }

    /** A destination the guest may not reach; the explicit and transparent proxies answer it with 403. */
    static final class Refused extends UnknownHostException {
        Refused(String message) {
            super(message);
        }
    }

    /** Whether {@code e} or one of its causes (or suppressed) is a {@link Refused}; OkHttp wraps connect failures. */
    static Refused refusal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Refused r) {
                return r;
            }
            for (Throwable s : t.getSuppressed()) {
                if (s instanceof Refused r) {
                    return r;
                }
            }
        }
        return null;
    }

    private final class RefusingSockets extends SocketFactory {
        @Override
        public Socket createSocket() {
            return new Socket() {
                @Override
                public void connect(SocketAddress endpoint, int timeout) throws IOException {
                    if (endpoint instanceof InetSocketAddress a && a.getAddress() != null && refuses(a.getAddress())) {
                        throw new Refused(a.getAddress().getHostAddress() + " is a refused address (cloud metadata)");
                    }
                    super.connect(endpoint, timeout);
                }
            };
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            Socket s = createSocket();
            s.bind(new InetSocketAddress(localHost, localPort));
            s.connect(new InetSocketAddress(host, port));
            return s;
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            Socket s = createSocket();
            s.bind(new InetSocketAddress(localAddress, localPort));
            s.connect(new InetSocketAddress(address, port));
            return s;
        }

        private Socket connected(InetSocketAddress to) throws IOException {
            Socket s = createSocket();
            s.connect(to);
            return s;
        }
    }
}
