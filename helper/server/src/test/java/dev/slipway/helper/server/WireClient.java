package dev.slipway.helper.server;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import com.google.gson.Gson;

/** A raw blocking client for tests: sends exactly the bytes it is given, reads one framed reply. */
final class WireClient implements Closeable {

    private static final Gson GSON = new Gson();
    private final SocketChannel channel;

    WireClient(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
    }

    static byte[] frame(String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    void sendRaw(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    Map<String, Object> call(String json) throws IOException {
        sendRaw(frame(json));
        return reply();
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next reply, or null when the helper closed the connection. */
    @SuppressWarnings("unchecked")
    Map<String, Object> reply() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(4);
        if (!readFully(header)) {
            return null;
        }
        ByteBuffer body = ByteBuffer.allocate(header.getInt(0));
        if (!readFully(body)) {
            return null;
        }
        return GSON.fromJson(new String(body.array(), StandardCharsets.UTF_8), Map.class);
    }

    /** Whether the helper has closed the connection (reads EOF). */
    boolean closedByPeer() throws IOException {
        try {
            return channel.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private boolean readFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                return false;
            }
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    static String errorCode(Map<String, Object> reply) {
        return reply == null || Boolean.TRUE.equals(reply.get("ok")) ? null
                : (String) ((Map<String, Object>) reply.get("error")).get("code");
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
