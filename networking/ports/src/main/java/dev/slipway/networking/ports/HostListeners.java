package dev.slipway.networking.ports;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.SocketPath;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.platform.linux.natives.ReceivedSockets;

/**
 * The host sockets of published ports, non-blocking: TCP and UDP bound by this process or, where
 * it may not bind them (EACCES), by the privileged helper that passes the bound socket back; Unix
 * sockets at a path, mode 0600.
 */
final class HostListeners {
    private static final Logger LOG = LoggerFactory.getLogger(HostListeners.class);

    /** The helper client bound now, or null. */
    private final Supplier<HelperClient> helper;

    HostListeners(Supplier<HelperClient> helper) {
        this.helper = helper;
    }

    /** The host socket, bound by the privileged helper when this process may not bind it (EACCES). */
    ServerSocketChannel tcp(PublishedPort port) throws IOException {
        try {
            return bindTcp(port.localAddress(), port);
        } catch (IOException e) {
            if (!permissionDenied(e)) {
                throw e;
            }
            ServerSocketChannel s = ReceivedSockets.tcp(helperBind(port, e), port.localAddress().getAddress());
            configureNonBlocking(s);
            return s;
        }
    }

    DatagramChannel udp(PublishedPort port) throws IOException {
        try {
            return bindUdp(port.localAddress(), port);
        } catch (IOException e) {
            if (!permissionDenied(e)) {
                throw e;
            }
            DatagramChannel d = ReceivedSockets.udp(helperBind(port, e), port.localAddress().getAddress());
            configureNonBlocking(d);
            return d;
        }
    }

    private static void configureNonBlocking(java.nio.channels.spi.AbstractSelectableChannel c) throws IOException {
        try {
            c.configureBlocking(false);
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }

    private static boolean permissionDenied(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().toLowerCase().contains("permission denied")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Asks the helper to bind the port ({@code ports.bind}) and returns the descriptor it passed. The
     * all-addresses flag was checked by {@link PortForwarder#expose} (or when the stored publication was made).
     */
    private int helperBind(PublishedPort port, IOException denied) throws IOException {
        HelperClient h = helper.get();
        if (h == null) {
            throw new IOException(denied.getMessage() + "; no privileged helper is available to bind it", denied);
        }
        InetSocketAddress local = port.localAddress();
        Map<String, String> params = new LinkedHashMap<>();
        params.put(HelperSchema.PARAM_PROTOCOL, port.protocol());
        params.put(HelperSchema.PARAM_ADDRESS, local.getAddress().getHostAddress());
        params.put(HelperSchema.PARAM_PORT, Integer.toString(local.getPort()));
        params.put(HelperSchema.PARAM_ALL_ADDRESSES, Boolean.toString(local.getAddress().isAnyLocalAddress()));
        try {
            int fd = h.callForDescriptor(HelperSchema.PORTS_BIND, params).descriptor();
            LOG.info("the helper bound {} {} for this runtime", port.protocol(), port.local());
            return fd;
        } catch (HelperException e) {
            throw new IOException("cannot listen on " + port.protocol() + " " + port.local() + ": the helper refused ("
                    + e.code() + "): " + e.getMessage(), e);
        }
    }

    private static ServerSocketChannel bindTcp(InetSocketAddress local, PublishedPort port) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            s.bind(local, 1024);
            s.configureBlocking(false);
            return s;
        } catch (IOException e) {
            s.close();
            throw bindError(port, e);
        }
    }

    private static DatagramChannel bindUdp(InetSocketAddress local, PublishedPort port) throws IOException {
        DatagramChannel d = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            d.bind(local);
            d.configureBlocking(false);
            return d;
        } catch (IOException e) {
            d.close();
            throw bindError(port, e);
        }
    }

    private static IOException bindError(PublishedPort port, IOException e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof BindException && why.toLowerCase().contains("in use")) {
            why = "the port is in use";
        } else if (why.toLowerCase().contains("permission denied")) {
            why = "permission denied (ports below 1024 need privileges)";
        }
        return new IOException("cannot listen on " + port.protocol() + " " + port.local() + ": " + why, e);
    }

    /**
     * A Unix socket at {@code path}, mode 0600. A leftover socket nobody answers on (a killed
     * runtime's) is replaced; a live one, or any other kind of file, is an error.
     */
    static ServerSocketChannel bindUnix(Path path) throws IOException {
        try {
            SocketPath.claim(path);
        } catch (IOException e) {
            throw new IOException("cannot listen on unix: " + e.getMessage(), e);
        }
        Path dir = path.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(path), 1024);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            s.configureBlocking(false);
            return s;
        } catch (IOException e) {
            s.close();
            Files.deleteIfExists(path);
            throw new IOException("cannot listen on unix " + path + ": " + e.getMessage(), e);
        }
    }
}
