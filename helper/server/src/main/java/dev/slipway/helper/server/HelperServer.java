package dev.slipway.helper.server;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.slipway.api.control.SocketPath;
import dev.slipway.api.helper.CallerConnection;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperProtocol;

/**
 * The helper's socket: one event-loop thread accepts, checks peer credentials, frames messages and
 * writes replies; a small fixed pool runs the requests. Each connection has at most one request in
 * flight, at most {@code maxConnections} are open (further clients wait in the listen backlog),
 * and a message that stalls is cut off after the idle timeout. Framing errors (oversized,
 * truncated, not JSON) get an error reply and a closed connection; the server keeps serving.
 */
final class HelperServer implements Closeable {

    private static final int BACKLOG = 4096;
    private static final Set<PosixFilePermission> SOCKET_MODE = PosixFilePermissions.fromString("rw-rw----");

    private final Path socket;
    private final String group;
    private final PeerPolicy policy;
    private final RequestParser parser = new RequestParser();
    private final OperationDispatcher dispatcher;
    private final Replies replies;
    private final AuditLog audit;
    private final Helper.Limits limits;
    private final DescriptorPassing descriptors = new DescriptorPassing();
    private final Logger log = LoggerFactory.getLogger(HelperServer.class);

    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final Set<Connection> connections = new HashSet<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    private ServerSocketChannel server;
    private Selector selector;
    private SelectionKey acceptKey;
    private ThreadPoolExecutor workers;
    private ThreadPoolExecutor auditWriter;
    private Thread loop;
    private volatile boolean running;

    HelperServer(Path socket, String group, PeerPolicy policy, OperationDispatcher dispatcher, Replies replies,
            AuditLog audit, Helper.Limits limits) {
        this.socket = socket;
        this.group = group;
        this.policy = policy;
        this.dispatcher = dispatcher;
        this.replies = replies;
        this.audit = audit;
        this.limits = limits;
    }

    void start() throws IOException {
        prepareSocketPath();
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        // bind() creates the file with the umask's mode (no write bit for others), so nobody but
        // the owner can connect before the group and 0660 are set below.
        server.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
        protectSocketFile();
        server.configureBlocking(false);
        selector = Selector.open();
        acceptKey = server.register(selector, SelectionKey.OP_ACCEPT);
        workers = new ThreadPoolExecutor(limits.workers(), limits.workers(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(limits.maxConnections() + 1), runnable -> {
                    Thread t = new Thread(runnable, "slipway-helper-worker");
                    t.setDaemon(true);
                    return t;
                });
        // Records of read-only operations are written here, after their replies; when it falls
        // behind by more than its queue, the submitting thread writes the record itself.
        auditWriter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096), runnable -> {
            Thread t = new Thread(runnable, "slipway-helper-audit");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        running = true;
        loop = new Thread(this::run, "slipway-helper-io");
        loop.setDaemon(true);
        loop.start();
        log.info("helper serving on " + socket + " for " + policy.describe());
    }

    Path socket() {
        return socket;
    }

    long served() {
        return served.get();
    }

    long refused() {
        return refused.get();
    }

    int openConnections() {
        return open.get();
    }

    private void prepareSocketPath() throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        PosixFileAttributes dirAttributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!dirAttributes.isDirectory()) {
            throw new IOException("the socket's directory " + dir + " is not a directory (or is a symlink)");
        }
        if (dirAttributes.permissions().contains(PosixFilePermission.GROUP_WRITE)
                || dirAttributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("the socket's directory " + dir + " is writable by others than its owner; refusing to serve there");
        }
        String helperUser = System.getProperty("user.name");
        if (!dirAttributes.owner().getName().equals(helperUser) && !dirAttributes.owner().getName().equals("root")) {
            throw new IOException("the socket's directory " + dir + " is owned by " + dirAttributes.owner().getName()
                    + ", not by root or the helper's user");
        }
        SocketPath.claim(socket);
    }

    private void protectSocketFile() throws IOException {
        // chmod on a socket cannot go through an O_NOFOLLOW descriptor (ENXIO); following is safe
        // here because the directory was checked to be writable by its owner only.
        PosixFileAttributeView view = Files.getFileAttributeView(socket, PosixFileAttributeView.class);
        GroupPrincipal groupPrincipal;
        try {
            groupPrincipal = socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (IOException e) {
            Files.deleteIfExists(socket);
            throw new IOException("group " + group + " does not exist (slipway helper install creates it)", e);
        }
        view.setGroup(groupPrincipal);
        view.setPermissions(SOCKET_MODE);
    }

    private void run() {
        long lastSweep = System.nanoTime();
        while (running) {
            try {
                selector.select(200);
                drainCompletions();
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    handle(key);
                }
                long now = System.nanoTime();
                if (now - lastSweep > 100_000_000L) {
                    sweep(now);
                    lastSweep = now;
                }
            } catch (IOException | RuntimeException e) {
                // One bad connection must not stop the helper: log and keep looping.
                log.warn("helper event loop: " + e);
            }
        }
    }

    private void handle(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        if (key == acceptKey) {
            acceptAll();
            return;
        }
        Connection c = (Connection) key.attachment();
        try {
            if (key.isWritable()) {
                flush(c);
            }
            if (key.isValid() && key.isReadable()) {
                read(c);
            }
        } catch (IOException e) {
            close(c);
        }
    }

    private void acceptAll() {
        while (open.get() < limits.maxConnections()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                log.warn("accept failed: " + e);
                return;
            }
            if (channel == null) {
                return;
            }
            accept(channel);
        }
        if (open.get() >= limits.maxConnections()) {
            acceptKey.interestOps(0);
        }
    }

    private void accept(SocketChannel channel) {
        Caller caller;
        try {
            UnixDomainPrincipal principal = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            caller = new Caller(principal.user().getName(), principal.group().getName());
            channel.configureBlocking(false);
        } catch (IOException | UnsupportedOperationException e) {
            refused.incrementAndGet();
            audit.refused(new Caller("?", "?"), "no peer credentials: " + e.getMessage());
            closeQuietly(channel);
            return;
        }
        PeerPolicy.Decision decision = policy.check(caller);
        if (!decision.allowed()) {
            refused.incrementAndGet();
            log.warn("refused " + caller.user() + ": " + decision.reason());
            audit.refused(caller, decision.reason());
            try {
                // Best effort: a short reply fits the socket buffer of a fresh connection.
                channel.write(replies.error(-1, HelperErrors.REFUSED, "not allowed to use the Slipway helper: " + decision.reason()));
            } catch (IOException e) {
                // the peer is gone; the refusal is already logged
            }
            closeQuietly(channel);
            return;
        }
        Connection c = new Connection(channel, caller, descriptors);
        try {
            c.key = channel.register(selector, SelectionKey.OP_READ, c);
        } catch (ClosedChannelException e) {
            return;
        }
        connections.add(c);
        open.incrementAndGet();
    }

    private void read(Connection c) throws IOException {
        while (!c.inFlight) {
            ByteBuffer target = c.body == null ? c.header : c.body;
            int n = c.channel.read(target);
            if (n < 0) {
                if (c.header.position() > 0) {
                    failAndClose(c, HelperErrors.TRUNCATED, "the connection ended in the middle of a message");
                } else {
                    close(c);
                }
                return;
            }
            if (n == 0) {
                return;
            }
            long now = System.nanoTime();
            c.lastActivity = now;
            if (c.messageStarted == 0) {
                c.messageStarted = now;
            }
            if (c.body == null && !c.header.hasRemaining()) {
                long length = Integer.toUnsignedLong(c.header.getInt(0));
                if (length > HelperProtocol.MAX_MESSAGE_BYTES) {
                    failAndClose(c, HelperErrors.OVERSIZED, "a message of " + length + " bytes exceeds the limit of "
                            + HelperProtocol.MAX_MESSAGE_BYTES);
                    return;
                }
                if (length == 0) {
                    failAndClose(c, HelperErrors.MALFORMED, "an empty message");
                    return;
                }
                c.body = ByteBuffer.allocate((int) length);
            }
            if (c.body != null && !c.body.hasRemaining()) {
                byte[] payload = c.body.array();
                c.header.clear();
                c.body = null;
                c.messageStarted = 0;
                c.inFlight = true;
                c.key.interestOps(0);
                RequestParser.Parsed parsed = parser.parse(payload);
                if (parsed instanceof RequestParser.Request request && OperationDispatcher.builtIn(request.operation().name())) {
                    // version and health answer from memory: served on this thread, which saves two
                    // thread hand-offs on the health checks clients poll; only their audit record
                    // (a file write) goes to a worker.
                    OperationDispatcher.Dispatched dispatched = dispatcher.dispatch(request, c.caller, c);
                    served.incrementAndGet();
                    auditWriter.execute(dispatched.audit());
                    c.out = dispatched.reply();
                    c.inFlight = false;
                    flush(c);
                    if (c.out != null) {
                        return; // the reply did not fit the socket buffer: read on once it is written
                    }
                    continue;
                }
                workers.execute(() -> process(c, parsed));
            }
        }
    }

    /** Runs on a worker thread. */
    private void process(Connection c, RequestParser.Parsed parsed) {
        ByteBuffer reply;
        boolean close = false;
        Runnable record;
        try {
            if (parsed instanceof RequestParser.Rejected rejected) {
                reply = replies.error(rejected.id(), rejected.code(), rejected.message());
                close = rejected.close();
                record = () -> audit.protocolError(c.caller, rejected.code(), rejected.message());
            } else {
                OperationDispatcher.Dispatched dispatched = dispatcher.dispatch((RequestParser.Request) parsed, c.caller, c);
                reply = dispatched.reply();
                record = dispatched.audit();
                served.incrementAndGet();
            }
        } catch (RuntimeException e) {
            reply = replies.error(-1, HelperErrors.FAILED, "internal error: " + e);
            close = true;
            String problem = e.toString();
            record = () -> audit.protocolError(c.caller, HelperErrors.FAILED, problem);
        }
        completions.add(new Completion(c, reply, close));
        selector.wakeup();
        auditWriter.execute(record);
    }

    private void drainCompletions() {
        Completion done;
        while ((done = completions.poll()) != null) {
            Connection c = done.connection();
            c.out = done.reply();
            c.closeAfterWrite = done.close();
            c.inFlight = false;
            c.lastActivity = System.nanoTime();
            try {
                flush(c);
            } catch (IOException e) {
                close(c);
            }
        }
    }

    private void flush(Connection c) throws IOException {
        if (c.out != null) {
            c.channel.write(c.out);
            if (c.out.hasRemaining()) {
                c.key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            c.out = null;
        }
        if (c.closeAfterWrite) {
            close(c);
        } else if (c.key.isValid()) {
            c.key.interestOps(c.inFlight ? 0 : SelectionKey.OP_READ);
        }
    }

    private void failAndClose(Connection c, String code, String message) {
        audit.protocolError(c.caller, code, message);
        c.out = replies.error(-1, code, message);
        c.closeAfterWrite = true;
        c.key.interestOps(0);
        try {
            flush(c);
        } catch (IOException e) {
            close(c);
        }
    }

    private void sweep(long now) {
        long messageLimit = limits.idleTimeout().toNanos();
        long idleLimit = messageLimit * 6;
        for (Connection c : new ArrayList<>(connections)) {
            if (c.inFlight) {
                continue;
            }
            if (c.out != null && now - c.lastActivity > messageLimit) {
                close(c); // the peer does not read its reply
            } else if (c.messageStarted != 0 && now - c.messageStarted > messageLimit) {
                failAndClose(c, HelperErrors.TRUNCATED, "the message did not arrive completely within "
                        + limits.idleTimeout().toMillis() + " ms");
            } else if (c.out == null && now - c.lastActivity > idleLimit) {
                close(c);
            }
        }
    }

    private void close(Connection c) {
        if (connections.remove(c)) {
            open.decrementAndGet();
            if (acceptKey.isValid() && acceptKey.interestOps() == 0) {
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
            }
        }
        if (c.key != null) {
            c.key.cancel();
        }
        c.close();
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with a dead connection
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        if (selector != null) {
            selector.wakeup();
        }
        if (loop != null) {
            try {
                loop.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (workers != null) {
            workers.shutdownNow();
        }
        if (auditWriter != null) {
            auditWriter.shutdown();
            try {
                auditWriter.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Connection> all = new ArrayList<>(connections);
        all.forEach(Connection::close);
        connections.clear();
        if (selector != null) {
            selector.close();
        }
        if (server != null) {
            server.close();
            Files.deleteIfExists(socket);
        }
    }

    private record Completion(Connection connection, ByteBuffer reply, boolean close) {}

    /**
     * One accepted connection. Its handler may pass a descriptor on it while its request is in flight;
     * closing waits for that, so the descriptor number never belongs to another connection by then.
     */
    private static final class Connection implements CallerConnection {
        final SocketChannel channel;
        final Caller caller;
        final DescriptorPassing descriptors;
        final ByteBuffer header = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES);
        ByteBuffer body;
        ByteBuffer out;
        SelectionKey key;
        boolean inFlight;
        boolean closeAfterWrite;
        long lastActivity = System.nanoTime();
        long messageStarted;

        Connection(SocketChannel channel, Caller caller, DescriptorPassing descriptors) {
            this.channel = channel;
            this.caller = caller;
            this.descriptors = descriptors;
        }

        @Override
        public synchronized void sendDescriptor(int descriptor) throws HelperException {
            if (!channel.isOpen()) {
                throw new HelperException(HelperErrors.FAILED, "the caller's connection is closed");
            }
            descriptors.send(channel, descriptor);
        }

        synchronized void close() {
            closeQuietly(channel);
        }
    }
}
