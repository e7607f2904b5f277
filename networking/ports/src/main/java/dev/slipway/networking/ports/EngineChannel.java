package dev.slipway.networking.ports;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.SocketPath;

/**
 * The guest's engine on the host, with no network listener in the guest: the helper connects the
 * VM's virtio-serial port {@code dev.slipway.engine} to {@code channelSocket} (QEMU gets the
 * connection as a descriptor), and a relay in the guest ({@code guest/engine-relay.c}) carries each
 * connection made to {@code clientSocket} (the host's docker.sock) to the engine's Unix socket.
 *
 * <p>One serial port carries many connections, so both sides frame: type (1 byte), connection id
 * (4, big-endian), length (4, big-endian), payload. {@code OPEN} (host to guest), {@code DATA},
 * {@code SHUT} (no more bytes from the sender: a half close, as the docker CLI uses for attach),
 * {@code CLOSE} (the connection is gone) and {@code RESET} (a new host side: the guest forgets every
 * connection). Ids are never reused while a channel is open. Each host connection's bytes are read by
 * its own thread; the guest's bytes are written to host connections in turn by the channel's reader,
 * so a client that stops reading holds the others back until it reads or goes away.
 */
final class EngineChannel implements AutoCloseable {
    static final byte OPEN = 1, DATA = 2, SHUT = 3, CLOSE = 4, RESET = 5;
    static final int HEADER = 9;
    static final int MAX_PAYLOAD = 32768;
    private static final Logger LOG = LoggerFactory.getLogger(EngineChannel.class);

    private final Path channelSocket;
    private final Path clientSocket;
    private final ServerSocketChannel channelServer;
    private final ServerSocketChannel clientServer;
    private volatile Link link;
    private volatile boolean open = true;

    EngineChannel(Path channelSocket, Path clientSocket) throws IOException {
        this.channelSocket = channelSocket;
        this.clientSocket = clientSocket;
        this.channelServer = listen(channelSocket);
        try {
            this.clientServer = listen(clientSocket);
        } catch (IOException e) {
            channelServer.close();
            Files.deleteIfExists(channelSocket);
            throw e;
        }
        daemon("slipway-engine-channel", this::acceptChannels);
        daemon("slipway-engine-clients", this::acceptClients);
    }

    /** Whether a guest side is attached (the VM runs with the channel). */
    boolean attached() {
        return link != null;
    }

    private static ServerSocketChannel listen(Path path) throws IOException {
        SocketPath.claim(path);
        Path dir = path.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(path), 16);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void acceptChannels() {
        while (open) {
            try {
                SocketChannel c = channelServer.accept();
                Link next = new Link(c);
                Link previous = link;
                link = next;
                if (previous != null) {
                    LOG.info("a new engine channel replaces the previous one; its connections end");
                    previous.close();
                }
                next.start();
                LOG.info("the guest's engine channel is attached");
            } catch (IOException e) {
                if (open) {
                    LOG.warn("engine channel: accept failed: {}", e.getMessage());
                }
            }
        }
    }

    private void acceptClients() {
        while (open) {
            SocketChannel client;
            try {
                client = clientServer.accept();
            } catch (IOException e) {
                if (open) {
                    LOG.warn("{}: accept failed: {}", clientSocket, e.getMessage());
                }
                continue;
            }
            Link l = link;
            if (l == null) {
                LOG.debug("{}: no engine attached (is the VM running?); connection closed", clientSocket);
                closeQuietly(client);
                continue;
            }
            l.open(client);
        }
    }

    @Override
    public void close() {
        open = false;
        closeQuietly(channelServer);
        closeQuietly(clientServer);
        Link l = link;
        link = null;
        if (l != null) {
            l.close();
        }
        try {
            Files.deleteIfExists(channelSocket);
            Files.deleteIfExists(clientSocket);
        } catch (IOException e) {
            LOG.debug("engine sockets already gone", e);
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing
        }
    }

    /** One attached guest side: the serial port's connection and the host connections it carries. */
    private final class Link {
        private final SocketChannel port;
        private final Map<Integer, SocketChannel> clients = new ConcurrentHashMap<>();
        private final AtomicInteger nextId = new AtomicInteger(1);
        private final ByteBuffer header = ByteBuffer.allocate(HEADER);
        private volatile boolean alive = true;

        Link(SocketChannel port) {
            this.port = port;
        }

        void start() throws IOException {
            send(RESET, 0, null);
            daemon("slipway-engine-link", this::readGuest);
        }

        void open(SocketChannel client) {
            int id = nextId.getAndIncrement();
            clients.put(id, client);
            try {
                send(OPEN, id, null);
            } catch (IOException e) {
                clients.remove(id);
                closeQuietly(client);
                close();
                return;
            }
            daemon("slipway-engine-conn-" + id, () -> readClient(id, client));
        }

        /** One frame to the guest; frames of different connections never interleave. */
        synchronized void send(byte type, int id, ByteBuffer payload) throws IOException {
            header.clear();
            header.put(type).putInt(id).putInt(payload == null ? 0 : payload.remaining()).flip();
            while (header.hasRemaining()) {
                port.write(header);
            }
            while (payload != null && payload.hasRemaining()) {
                port.write(payload);
            }
        }

        private void readClient(int id, SocketChannel client) {
            ByteBuffer buf = ByteBuffer.allocate(MAX_PAYLOAD);
            try {
                while (alive) {
                    buf.clear();
                    int n = client.read(buf);
                    if (n < 0) {
                        send(SHUT, id, null);
                        return;
                    }
                    buf.flip();
                    send(DATA, id, buf);
                }
            } catch (IOException e) {
                if (clients.remove(id) != null) {
                    closeQuietly(client);
                    try {
                        send(CLOSE, id, null);
                    } catch (IOException gone) {
                        close();
                    }
                }
            }
        }

        private void readGuest() {
            ByteBuffer h = ByteBuffer.allocate(HEADER);
            ByteBuffer payload = ByteBuffer.allocate(65536);
            try {
                while (alive) {
                    h.clear();
                    readFully(h);
                    h.flip();
                    byte type = h.get();
                    int id = h.getInt();
                    int length = h.getInt();
                    if (length < 0 || length > payload.capacity()) {
                        throw new IOException("a frame of " + length + " bytes from the guest");
                    }
                    payload.clear().limit(length);
                    readFully(payload);
                    payload.flip();
                    SocketChannel client = clients.get(id);
                    switch (type) {
                        case DATA -> {
                            if (client != null) {
                                writeOrDrop(id, client, payload);
                            }
                        }
                        case SHUT -> {
                            if (client != null) {
                                try {
                                    client.shutdownOutput();
                                } catch (IOException e) {
                                    drop(id);
                                }
                            }
                        }
                        case CLOSE -> {
                            SocketChannel gone = clients.remove(id);
                            if (gone != null) {
                                closeQuietly(gone);
                            }
                        }
                        default -> throw new IOException("an unknown frame type " + type + " from the guest");
                    }
                }
            } catch (IOException e) {
                if (alive) {
                    LOG.info("the guest's engine channel ended: {}", e.getMessage());
                }
            } finally {
                close();
            }
        }

        private void writeOrDrop(int id, SocketChannel client, ByteBuffer payload) {
            try {
                while (payload.hasRemaining()) {
                    client.write(payload);
                }
            } catch (IOException e) {
                drop(id);
            }
        }

        private void drop(int id) {
            SocketChannel c = clients.remove(id);
            if (c != null) {
                closeQuietly(c);
                try {
                    send(CLOSE, id, null);
                } catch (IOException gone) {
                    close();
                }
            }
        }

        private void readFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (port.read(b) < 0) {
                    throw new EOFException("closed by the VM");
                }
            }
        }

        void close() {
            alive = false;
            if (link == this) {
                link = null;
            }
            closeQuietly(port);
            clients.values().forEach(EngineChannel::closeQuietly);
            clients.clear();
        }
    }
}
