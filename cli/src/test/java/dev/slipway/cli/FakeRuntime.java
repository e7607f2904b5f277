package dev.slipway.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The control API as a running runtime serves it, reduced to what a test scripts: a Unix socket
 * that answers each HTTP request with what {@link Handler} says, one request per connection.
 */
final class FakeRuntime implements AutoCloseable {

    record Request(String method, String path, Map<String, String> headers, String body) {}

    record Reply(int status, String contentType, String body) {
        static Reply json(int status, String body) {
            return new Reply(status, "application/json", body);
        }
    }

    interface Handler {
        Reply handle(Request request) throws Exception;
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Path socket;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private volatile Handler handler;

    private FakeRuntime(Path socket, Handler handler) throws IOException {
        this.socket = socket;
        this.handler = handler;
        Files.createDirectories(socket.getParent());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "fake-runtime-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static FakeRuntime serve(Path socket, Handler handler) throws IOException {
        return new FakeRuntime(socket, handler);
    }

    void answer(Handler next) {
        handler = next;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread connection = new Thread(() -> serve(client), "fake-runtime-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client; InputStream in = Channels.newInputStream(client); OutputStream out = Channels.newOutputStream(client)) {
            String requestLine = line(in);
            if (requestLine == null || requestLine.isEmpty()) {
                return; // a plain connect to see whether anyone accepts
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String header; (header = line(in)) != null && !header.isEmpty(); ) {
                int colon = header.indexOf(':');
                headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            String[] parts = requestLine.split(" ");
            Request request = new Request(parts[0], parts[1], headers, body);
            requests.add(request);
            Reply reply;
            try {
                reply = handler.handle(request);
            } catch (Exception e) {
                reply = Reply.json(500, "{\"error\":\"" + e + "\"}");
            }
            byte[] content = reply.body().getBytes(StandardCharsets.UTF_8);
            out.write(("HTTP/1.1 " + reply.status() + " X\r\nContent-Type: " + reply.contentType() + "\r\nContent-Length: "
                    + content.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
        } catch (IOException e) {
            // the client went away
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                return line.toString(StandardCharsets.ISO_8859_1).replaceFirst("\r$", "");
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(5000);
        Files.deleteIfExists(socket);
    }
}
