package dev.slipway.networking.stack.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a Unix socket for VMs: every connection becomes a transport handed to {@code attach}
 * (QEMU stream framing, or vpnkit's after its handshake). The socket is private to the user.
 */
public final class SocketListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SocketListener.class);
    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private volatile boolean open = true;

    public SocketListener(Path path, StreamTransport.Framing framing, int mtu, Consumer<Transport> attach) throws IOException {
        this.path = path;
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            LOG.debug("no POSIX permissions on {}", path);
        }
        acceptor = new Thread(() -> {
            int n = 0;
            while (open) {
                SocketChannel c;
                try {
                    c = server.accept();
                } catch (IOException e) {
                    if (open) {
                        LOG.warn("accepting on {} failed", path, e);
                    }
                    return;
                }
                String name = (framing == StreamTransport.Framing.QEMU ? "qemu " : "vpnkit ") + path.getFileName() + "#" + (++n);
                if (framing == StreamTransport.Framing.VPNKIT) {
                    // the handshake waits on the client: never on the accepting thread
                    Thread t = new Thread(() -> handshakeAndAttach(c, name, mtu, attach), "slipway-net-handshake-" + n);
                    t.setDaemon(true);
                    t.start();
                } else {
                    attachOrClose(c, name, framing, attach);
                }
            }
        }, "slipway-net-accept-" + path.getFileName());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void handshakeAndAttach(SocketChannel c, String name, int mtu, Consumer<Transport> attach) {
        try {
            VpnkitHandshake.Vif vif = VpnkitHandshake.serve(c, mtu);
            LOG.info("vpnkit client {} connected on {} (MAC {})", vif.uuid(), path, dev.slipway.networking.stack.Mac.toString(vif.mac()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("rejected a vpnkit client on {}: {}", path, e.toString());
            closeQuietly(c);
            return;
        }
        attachOrClose(c, name, StreamTransport.Framing.VPNKIT, attach);
    }

    private void attachOrClose(SocketChannel c, String name, StreamTransport.Framing framing, Consumer<Transport> attach) {
        try {
            attach.accept(new StreamTransport(name, c, framing));
        } catch (IOException | RuntimeException e) {
            LOG.warn("rejected a client on {}: {}", path, e.toString());
            closeQuietly(c);
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // rejected anyway
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        open = false;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing {}", path, e);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debug("removing {}", path, e);
        }
    }
}
