package dev.slipway.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/** A minimal HTTP/1.1 client over a Unix domain socket: one request per connection, read to the end. */
final class UnixHttp {

    /** A response: status, headers (names in lower case) and body. */
    record Reply(int status, Map<String, String> headers, String body) {
        JsonElement json() {
            return JsonParser.parseString(body);
        }

        String contentType() {
            return headers.get("content-type");
        }
    }

    /** Writes the request's bytes, on the calling thread or, for {@link #exchange(Path, Writer)}, on one of its own. */
    interface Writer {
        void write(SocketChannel channel) throws IOException;
    }

    private UnixHttp() {}

    static Reply get(Path socket, String target) throws IOException {
        return send(socket, "GET", target, null);
    }

    static Reply post(Path socket, String target, String body) throws IOException {
        return send(socket, "POST", target, body);
    }

    static Reply send(Path socket, String method, String target, String body) throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + target + " HTTP/1.1\r\nHost: slipway\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n") + "\r\n";
        return exchange(socket, channel -> {
            write(channel, head.getBytes(StandardCharsets.US_ASCII));
            write(channel, content);
        });
    }

    /**
     * Opens a connection, lets {@code writer} send the request on a thread of its own (a server may
     * answer before it has read all of it) and reads the response until the server closes.
     */
    static Reply exchange(Path socket, Writer writer) throws IOException {
        return exchange(socket, writer, new CountDownLatch(1));
    }

    /** Like {@link #exchange(Path, Writer)}; {@code answered} opens when the first bytes of the response arrive. */
    static Reply exchange(Path socket, Writer writer, CountDownLatch answered) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            Thread sender = new Thread(() -> {
                try {
                    writer.write(channel);
                } catch (IOException e) {
                    // the server answered and closed before it read everything
                }
            }, "test-http-writer");
            sender.start();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            try {
                while (channel.read(buffer) >= 0) {
                    received.write(buffer.array(), 0, buffer.position());
                    buffer.clear();
                    answered.countDown();
                }
            } catch (SocketException e) {
                // A server that answers and closes before reading the whole request leaves unread bytes
                // in its socket, so the kernel ends the connection with a reset instead of an end of
                // stream once the answer has been read: the answer is what the test looks at.
                if (received.size() == 0) {
                    throw e;
                }
            }
            try {
                sender.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return parse(received.toByteArray());
        }
    }

    static void write(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static Reply parse(byte[] bytes) throws IOException {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            throw new IOException("no complete response: " + text);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        String rest = text.substring(end + 4);
        String body = "chunked".equalsIgnoreCase(headers.get("transfer-encoding")) ? dechunk(rest) : rest;
        return new Reply(status, headers, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
