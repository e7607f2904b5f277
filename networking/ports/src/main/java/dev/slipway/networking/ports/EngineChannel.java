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
 * {@code CLOSE} (the connection is gone), {@code RESET} (a new host side: the guest forgets every
 * connection) and {@code CREDIT} (4-byte payload: the receiver delivered that many more bytes of the
 * connection). Ids are never reused while a channel is open.
 *
 * <p>Flow control, per connection and both ways: a sender may have at most {@link #WINDOW} bytes of a
 * connection sent and not yet credited back. The receiver buffers them (one bounded buffer per
 * connection) and never blocks the shared port on one connection's reader, so a client that stops
 * reading holds back only its own connection. A peer that sends past its window or credits more
 * than was sent breaks the protocol: the channel ends with a clear error.
 */
final class EngineChannel implements AutoCloseable {
    static final byte OPEN = 1, DATA = 2, SHUT = 3, CLOSE = 4, RESET = 5, CREDIT = 6;
    static final int HEADER = 9;
    static final int MAX_PAYLOAD = 32768;
    static final int WINDOW = 262144;
    private static final Logger LOG = LoggerFactory.getLogger(EngineChannel.class);

    /** Asks the helper for a new connection to the running VM's engine port ({@code vm.attach-engine}). */
    @FunctionalInterface
    interface Attacher {
        SocketChannel attach() throws IOException;
    }

    private final Path channelSocket;
    private final Path clientSocket;
    private final Attacher attacher;
    private final ServerSocketChannel channelServer;
    private final ServerSocketChannel clientServer;
    private final Object attaching = new Object();
    private volatile Link link;
    private volatile boolean open = true;
    private volatile String lastEnd = "";

    /** A channel whose guest side connects to {@code channelSocket} itself (tests that play the guest). */
    EngineChannel(Path channelSocket, Path clientSocket) throws IOException {
        this(channelSocket, clientSocket, null);
    }

    /**
     * @param attacher when given, a connection to {@code channelSocket} is the helper's news that a VM
     *        with an engine channel started: it is closed and the channel asked for with the attacher
     *        (and so on {@link #attachInBackground()}, when a runtime comes back to a running VM);
     *        without one, such a connection is the guest side itself
     */
    EngineChannel(Path channelSocket, Path clientSocket, Attacher attacher) throws IOException {
        this.channelSocket = channelSocket;
        this.clientSocket = clientSocket;
        this.attacher = attacher;
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

    /** Why the last guest side ended, empty while none has. */
    String lastEnd() {
        return lastEnd;
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
                if (attacher == null) {
                    attach(c);
                } else {
                    closeQuietly(c);
                    attachInBackground();
                }
            } catch (IOException e) {
                if (open) {
                    LOG.warn("engine channel: accept failed: {}", e.getMessage());
                }
            }
        }
    }

    /**
     * Asks for the running VM's engine channel on a thread of its own (one request at a time): at the
     * helper's news of a VM start, and when the runtime finds its helper (after a runtime restart the
     * VM still runs, and its engine port waits for a new connection). A VM that is not running is no error.
     */
    void attachInBackground() {
        if (attacher == null || !open) {
            return;
        }
        daemon("slipway-engine-attach", () -> {
            synchronized (attaching) {
                if (!open) {
                    return;
                }
                try {
                    SocketChannel port = attacher.attach();
                    if (!open) {
                        closeQuietly(port);
                        return;
                    }
                    attach(port);
                } catch (IOException e) {
                    LOG.info("the engine channel is not attached: {}", e.getMessage());
                }
            }
        });
    }

    /** Makes {@code port} the guest side; a previous one and its connections end. */
    private void attach(SocketChannel port) throws IOException {
        Link next = new Link(port);
        Link previous = link;
        link = next;
        if (previous != null) {
            LOG.info("a new engine channel replaces the previous one; its connections end");
            previous.close();
        }
        try {
            next.start();
        } catch (IOException e) {
            next.close();
            throw e;
        }
        LOG.info("the guest's engine channel is attached");
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
        private final Map<Integer, Connection> clients = new ConcurrentHashMap<>();
        private final AtomicInteger nextId = new AtomicInteger(1);
        private final ByteBuffer header = ByteBuffer.allocate(HEADER + 4);
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
            Connection c = new Connection(id, client);
            clients.put(id, c);
            try {
                send(OPEN, id, null);
            } catch (IOException e) {
                clients.remove(id);
                closeQuietly(client);
                close();
                return;
            }
            daemon("slipway-engine-conn-" + id, c::readClient);
            daemon("slipway-engine-conn-" + id + "-out", c::writeClient);
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

        synchronized void sendCredit(int id, int bytes) throws IOException {
            header.clear();
            header.put(CREDIT).putInt(id).putInt(4).putInt(bytes).flip();
            while (header.hasRemaining()) {
                port.write(header);
            }
        }

        private void readGuest() {
            ByteBuffer h = ByteBuffer.allocate(HEADER);
            ByteBuffer payload = ByteBuffer.allocate(MAX_PAYLOAD);
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
                    Connection c = clients.get(id);
                    switch (type) {
                        case DATA -> {
                            if (c != null) {
                                c.received(payload);
                            }
                        }
                        case SHUT -> {
                            if (c != null) {
                                c.finish(false);
                            }
                        }
                        case CLOSE -> {
                            Connection gone = clients.remove(id);
                            if (gone != null) {
                                gone.finish(true);
                            }
                        }
                        case CREDIT -> {
                            if (length != 4) {
                                throw new IOException("protocol error: a CREDIT frame of " + length
                                        + " bytes for connection " + id + " (4 expected)");
                            }
                            int bytes = payload.getInt();
                            if (c != null) {
                                c.credited(bytes);
                            } else if (bytes <= 0) {
                                throw new IOException("protocol error: a credit of " + bytes + " bytes for connection " + id);
                            }
                        }
                        default -> throw new IOException("an unknown frame type " + type + " from the guest");
                    }
                }
            } catch (IOException e) {
                if (alive) {
                    lastEnd = String.valueOf(e.getMessage());
                    LOG.info("the guest's engine channel ended: {}", e.getMessage());
                }
            } finally {
                close();
            }
        }

        private void drop(int id) {
            Connection c = clients.remove(id);
            if (c != null) {
                c.close();
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
            clients.values().forEach(Connection::close);
            clients.clear();
        }

        /**
         * One host connection: its reader sends what the client writes while the guest's credit lasts;
         * its writer delivers the guest's bytes from a buffer of one window and credits them back.
         */
        private final class Connection {
            private final int id;
            private final SocketChannel client;
            private final byte[] pending = new byte[WINDOW];
            private final ByteBuffer pendingView = ByteBuffer.wrap(pending);
            private int head;
            private int size;
            private int credit = WINDOW;
            private boolean shutRequested;
            private boolean outputShut;
            private boolean closeRequested;
            private boolean closed;

            Connection(int id, SocketChannel client) {
                this.id = id;
                this.client = client;
            }

            /** On the link's reader: never blocks. */
            synchronized void received(ByteBuffer payload) throws IOException {
                int n = payload.remaining();
                if (n > WINDOW - size) {
                    throw new IOException("protocol error: the guest sent " + n + " bytes on connection " + id
                            + " with " + (WINDOW - size) + " bytes of credit left");
                }
                if (shutRequested || closeRequested || closed) {
                    return;
                }
                int tail = (head + size) % WINDOW;
                int first = Math.min(n, WINDOW - tail);
                payload.get(pending, tail, first);
                payload.get(pending, 0, n - first);
                size += n;
                notifyAll();
            }

            synchronized void credited(int bytes) throws IOException {
                if (bytes <= 0 || bytes > WINDOW - credit) {
                    throw new IOException("protocol error: a credit of " + bytes + " bytes for connection " + id
                            + " which has " + (WINDOW - credit) + " bytes outstanding");
                }
                credit += bytes;
                notifyAll();
            }

            /** The guest's SHUT ({@code close == false}) or CLOSE: done once what is buffered is delivered. */
            synchronized void finish(boolean close) {
                if (close) {
                    closeRequested = true;
                } else {
                    shutRequested = true;
                }
                notifyAll();
            }

            synchronized void close() {
                closed = true;
                notifyAll();
                closeQuietly(client);
            }

            private synchronized int awaitCredit() throws InterruptedException {
                while (credit == 0 && !closed && alive) {
                    wait();
                }
                return closed || !alive ? 0 : Math.min(credit, MAX_PAYLOAD);
            }

            void readClient() {
                ByteBuffer buf = ByteBuffer.allocate(MAX_PAYLOAD);
                try {
                    while (alive) {
                        int allowed = awaitCredit();
                        if (allowed == 0) {
                            return;
                        }
                        buf.clear().limit(allowed);
                        int n = client.read(buf);
                        if (n < 0) {
                            send(SHUT, id, null);
                            return;
                        }
                        synchronized (this) {
                            credit -= n;
                        }
                        buf.flip();
                        send(DATA, id, buf);
                    }
                } catch (IOException e) {
                    drop(id);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            void writeClient() {
                try {
                    while (true) {
                        int start;
                        int length;
                        synchronized (this) {
                            while (size == 0 && (!shutRequested || outputShut) && !closeRequested && !closed && alive) {
                                wait();
                            }
                            if (closed || !alive) {
                                return;
                            }
                            if (size == 0) {
                                if (closeRequested) {
                                    close();
                                    return;
                                }
                                client.shutdownOutput();
                                outputShut = true;
                                continue;
                            }
                            start = head;
                            length = Math.min(size, WINDOW - head);
                        }
                        pendingView.limit(start + length).position(start);
                        while (pendingView.hasRemaining()) {
                            client.write(pendingView);
                        }
                        synchronized (this) {
                            head = (head + length) % WINDOW;
                            size -= length;
                        }
                        if (!closeRequested) {
                            sendCredit(id, length);
                        }
                    }
                } catch (IOException e) {
                    drop(id);
                    close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
