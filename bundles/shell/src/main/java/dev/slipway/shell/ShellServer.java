package dev.slipway.shell;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.SocketPath;

/**
 * Attaches Gogo shells to the running runtime: each connection to {@code shell.sock} (owner-only,
 * in the runtime directory) gets its own command session, one line at a time, until {@code exit}
 * or end of input. A handful of sessions at most, each on its own thread.
 */
@Component(service = {})
public final class ShellServer {

    static final String SOCKET_NAME = "shell.sock";
    private static final int MAX_SESSIONS = 4;
    private static final Logger LOG = LoggerFactory.getLogger(ShellServer.class);

    private final CommandProcessor processor;
    private final Path socket;
    private final ServerSocketChannel server;
    private final ExecutorService sessions = new ThreadPoolExecutor(0, MAX_SESSIONS, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> new Thread(r, "slipway-shell"));
    private final Thread acceptor;

    @Activate
    public ShellServer(BundleContext context, @Reference(name = "processor") CommandProcessor processor) throws IOException {
        this(runtimeDir(context), processor);
    }

    /** Serves sessions of {@code processor} on {@value #SOCKET_NAME} in {@code runtimeDir}. */
    ShellServer(Path runtimeDir, CommandProcessor processor) throws IOException {
        this.processor = processor;
        Files.createDirectories(runtimeDir);
        restrictToOwner(runtimeDir, "rwx------");
        socket = runtimeDir.resolve(SOCKET_NAME);
        SocketPath.claim(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        restrictToOwner(socket, "rw-------");
        acceptor = new Thread(this::acceptLoop, "slipway-shell-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private static void restrictToOwner(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the user profile's own ACLs apply
        }
    }

    private static Path runtimeDir(BundleContext context) {
        String dir = context.getProperty("slipway.runtime.dir");
        if (dir == null) {
            throw new IllegalStateException("framework property slipway.runtime.dir is not set");
        }
        return Path.of(dir);
    }

    @Deactivate
    void deactivate() throws IOException, InterruptedException {
        server.close();
        acceptor.join(5000);
        sessions.shutdownNow();
        Files.deleteIfExists(socket);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("shell socket accept failed", e);
                }
                return;
            }
            try {
                sessions.execute(() -> serve(client));
            } catch (RejectedExecutionException e) {
                try (client; PrintStream out = new PrintStream(Channels.newOutputStream(client), true, StandardCharsets.UTF_8)) {
                    out.println("slipway shell: too many sessions (at most " + MAX_SESSIONS + ")");
                } catch (IOException ignored) {
                    // the client went away; nothing else to tell it
                }
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client;
             InputStream in = Channels.newInputStream(client);
             OutputStream raw = Channels.newOutputStream(client);
             PrintStream out = new PrintStream(raw, true, StandardCharsets.UTF_8)) {
            CommandSession session = processor.createSession(in, out, out);
            try {
                BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                out.print("g! ");
                out.flush();
                for (String line; (line = reader.readLine()) != null; ) {
                    String command = line.trim();
                    if (command.equals("exit") || command.equals("quit")) {
                        break;
                    }
                    if (!command.isEmpty()) {
                        execute(session, command, out);
                    }
                    out.print("g! ");
                    out.flush();
                }
            } finally {
                session.close();
            }
        } catch (IOException e) {
            LOG.debug("shell session ended", e);
        }
    }

    private static void execute(CommandSession session, String command, PrintStream out) {
        try {
            Object result = session.execute(command);
            if (result != null) {
                out.println(session.format(result, Converter.INSPECT));
            }
        } catch (Exception e) {
            out.println("gogo: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
