package dev.slipway.networking.stack.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network card of the VM the helper runs: QEMU's stream netdev listens in a directory only the
 * helper can enter, and the helper hands this runtime a connection to it ({@code vm.attach-network})
 * as a descriptor. The link is asked for when the helper says a VM started (it connects to
 * {@code newsSocket} before the emulator starts and closes the connection once it runs), when a
 * helper is found (a runtime or network component that starts while the VM runs), and when the link
 * ends while the VM still runs (the emulator listens again): then up to {@link #RETRY_MILLIS}'s
 * length of tries, one after the other. One link at a time, asked for on one thread.
 */
public final class VmNetworkLink implements AutoCloseable {
    /** The names of links attached here; a version of the stack that takes such a link over watches it too. */
    public static final String NAME_PREFIX = "qemu vm.attach-network#";
    /** The pauses before the tries after a failed request (the helper restarting, say); then it waits for news. */
    static final long[] RETRY_MILLIS = {200, 500, 1000, 2000, 4000};
    /** How long a connection to the news socket may stay open before it counts as news anyway. */
    static final long NEWS_MILLIS = 60_000;
    private static final Logger LOG = LoggerFactory.getLogger(VmNetworkLink.class);

    /** Asks the helper for a new connection to the running VM's network card. */
    @FunctionalInterface
    public interface Attacher {
        /** The connection (blocking); empty when no VM runs whose network card this runtime may take. */
        Optional<SocketChannel> attach() throws IOException;
    }

    private final Path newsSocket;
    private final Consumer<Transport> stack;
    private final long[] retryMillis;
    private final ServerSocketChannel news;
    private final ScheduledExecutorService worker;
    private volatile Attacher attacher;
    private volatile boolean open = true;
    /** The attached link; only the worker thread changes it. */
    private volatile StreamTransport current;
    private int attached;

    /**
     * @param newsSocket where the helper brings the news of a start (mode 0600)
     * @param stack attaches a link to the network stack
     */
    public VmNetworkLink(Path newsSocket, Consumer<Transport> stack) throws IOException {
        this(newsSocket, stack, RETRY_MILLIS);
    }

    /** @param retryMillis the pauses before each further try after a failed request */
    VmNetworkLink(Path newsSocket, Consumer<Transport> stack, long[] retryMillis) throws IOException {
        this.newsSocket = newsSocket;
        this.stack = stack;
        this.retryMillis = retryMillis.clone();
        Files.createDirectories(newsSocket.toAbsolutePath().getParent());
        Files.deleteIfExists(newsSocket);
        news = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            news.bind(UnixDomainSocketAddress.of(newsSocket), 4);
            Files.setPosixFilePermissions(newsSocket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException e) {
            news.close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slipway-vm-network-link");
            t.setDaemon(true);
            return t;
        });
        Thread acceptor = new Thread(this::acceptNews, "slipway-vm-network-news");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The helper to ask (or none); a new one is asked at once, as a runtime that comes back to a running VM does. */
    public void attacher(Attacher a) {
        attacher = a;
        if (a != null) {
            submit(() -> attach(0));
        }
    }

    /** A link of this kind that a previous version of the stack attached and this one took over: watched as if attached here. */
    public void adopted(StreamTransport link) {
        link.whenPeerGone(() -> submit(() -> peerGone(link)));
        submit(() -> {
            if (current == null || !current.isOpen()) {
                current = link;
            }
        });
    }

    /** The attached link, or none (tests, status). */
    public Optional<String> link() {
        StreamTransport t = current;
        return t != null && t.isOpen() ? Optional.of(t.name()) : Optional.empty();
    }

    private void acceptNews() {
        while (open) {
            SocketChannel c;
            try {
                c = news.accept();
            } catch (IOException e) {
                if (open) {
                    LOG.warn("accepting on {} failed: {}", newsSocket, e.getMessage());
                }
                return;
            }
            Thread waiter = new Thread(() -> awaitNews(c), "slipway-vm-network-news-wait");
            waiter.setDaemon(true);
            waiter.start();
        }
    }

    /** The helper closes its connection once the emulator runs: then the network card is asked for. */
    private void awaitNews(SocketChannel c) {
        try (c; Selector selector = Selector.open()) {
            c.configureBlocking(false);
            c.register(selector, SelectionKey.OP_READ);
            ByteBuffer sink = ByteBuffer.allocate(64);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NEWS_MILLIS);
            while (open && System.nanoTime() < deadline) {
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                selector.selectedKeys().clear();
                sink.clear();
                if (c.read(sink) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            LOG.debug("news of a VM start on {}: {}", newsSocket, e.getMessage());
        }
        LOG.info("the helper started a VM: asking for its network card");
        submit(() -> attach(0));
    }

    private void peerGone(StreamTransport link) {
        if (link != current) {
            return;
        }
        current = null;
        LOG.info("the VM's network link {} ended: asking the helper for it again", link.name());
        attach(0);
    }

    /** On the worker: a new link unless one is attached; failures tried again a bounded number of times. */
    private void attach(int attempt) {
        Attacher a = attacher;
        if (!open || a == null || (current != null && current.isOpen())) {
            return;
        }
        Optional<SocketChannel> connection;
        try {
            connection = a.attach();
        } catch (IOException | RuntimeException e) {
            if (attempt < retryMillis.length) {
                LOG.info("the VM's network card is not attached ({}); trying again in {} ms", e.getMessage(), retryMillis[attempt]);
                schedule(() -> attach(attempt + 1), retryMillis[attempt]);
            } else {
                LOG.warn("the VM's network card is not attached after {} tries: {}; the next VM start or helper brings it",
                        attempt + 1, e.getMessage());
            }
            return;
        }
        if (connection.isEmpty()) {
            LOG.debug("no running VM whose network card to attach");
            return;
        }
        StreamTransport link;
        try {
            link = new StreamTransport(NAME_PREFIX + (++attached), connection.get(), StreamTransport.Framing.QEMU);
        } catch (IOException e) {
            closeQuietly(connection.get());
            LOG.warn("the VM's network card cannot be read: {}", e.getMessage());
            return;
        }
        if (!open) {
            link.close();
            return;
        }
        link.whenPeerGone(() -> submit(() -> peerGone(link)));
        current = link;
        stack.accept(link);
        LOG.info("the VM's network card is attached ({})", link.name());
    }

    private void submit(Runnable r) {
        try {
            worker.execute(r);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void schedule(Runnable r, long millis) {
        try {
            worker.schedule(r, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // dropped anyway
        }
    }

    /** Stops asking; the attached link stays the stack's (closed by it, or handed over with it). */
    @Override
    public void close() {
        open = false;
        worker.shutdownNow();
        try {
            news.close();
        } catch (IOException e) {
            LOG.debug("closing {}", newsSocket, e);
        }
        try {
            Files.deleteIfExists(newsSocket);
        } catch (IOException e) {
            LOG.debug("removing {}", newsSocket, e);
        }
    }
}
