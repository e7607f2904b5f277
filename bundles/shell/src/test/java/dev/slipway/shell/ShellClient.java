package dev.slipway.shell;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One connection to the shell socket, as {@code slipway shell} makes it: lines out, text back. */
final class ShellClient implements AutoCloseable {

    static final String PROMPT = "g! ";

    private final SocketChannel channel;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private int consumed;

    private ShellClient(SocketChannel channel) {
        this.channel = channel;
    }

    static ShellClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new ShellClient(channel);
    }

    void send(String line) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Everything after what was read before, up to and including the next prompt. */
    String untilPrompt() throws IOException {
        return until(PROMPT);
    }

    /** Sends a line and returns what the shell answered before its next prompt. */
    String run(String line) throws IOException {
        send(line);
        String answer = untilPrompt();
        return answer.substring(0, answer.length() - PROMPT.length());
    }

    String until(String marker) throws IOException {
        while (true) {
            String text = text();
            int at = text.indexOf(marker, consumed);
            if (at >= 0) {
                String part = text.substring(consumed, at + marker.length());
                consumed = at + marker.length();
                return part;
            }
            if (!readMore()) {
                throw new IOException("the session ended before '" + marker + "'; it sent: " + text.substring(consumed));
            }
        }
    }

    /** What is left until the shell closes the connection. */
    String toEnd() throws IOException {
        while (readMore()) {
            // keep reading
        }
        String rest = text().substring(consumed);
        consumed = text().length();
        return rest;
    }

    void endInput() throws IOException {
        channel.shutdownOutput();
    }

    private boolean readMore() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        int n;
        try {
            n = channel.read(buffer);
        } catch (java.net.SocketException reset) {
            // the shell closed while lines it will never read were still queued: the kernel resets then
            return false;
        }
        if (n < 0) {
            return false;
        }
        received.write(buffer.array(), 0, n);
        return true;
    }

    private String text() {
        return received.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
