package dev.slipway.helperclient;

import java.io.IOException;
import java.io.StringReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;

import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperProtocol;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.platform.Platform;

/**
 * One connection per call to the helper's socket ({@code slipway.helper.socket}, else the
 * platform's). Requests are checked against the schema before they are sent, so a mistake is
 * reported here with the same words the helper would use.
 */
@Component(service = HelperClient.class)
public final class SocketHelperClient implements HelperClient {

    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Path socket;
    private final Duration timeout;
    private final AtomicLong ids = new AtomicLong();
    private final Gson gson = new Gson();

    @Activate
    public SocketHelperClient(BundleContext context, @Reference Platform platform) {
        this(Optional.ofNullable(context.getProperty("slipway.helper.socket")).map(Path::of).orElse(platform.helperSocket()), TIMEOUT);
    }

    public SocketHelperClient(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    @Override
    public Path socket() {
        return socket;
    }

    @Override
    public Map<String, Object> call(String operation, Map<String, String> params) throws HelperException {
        byte[] body = request(operation, params);
        JsonObject reply;
        try (SocketChannel channel = connect()) {
            ByteBuffer out = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + body.length).putInt(body.length).put(body).flip();
            IOException writeFailure = null;
            try {
                while (out.hasRemaining()) {
                    channel.write(out);
                }
            } catch (IOException e) {
                // A refused peer is answered and closed at once, possibly before its request is
                // written: the refusal is still waiting to be read, and says why.
                writeFailure = e;
            }
            try {
                reply = readReply(channel);
            } catch (IOException e) {
                if (writeFailure != null) {
                    writeFailure.addSuppressed(e);
                    throw writeFailure;
                }
                throw e;
            }
        } catch (IOException e) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper on " + socket + " did not answer: " + e.getMessage(), e);
        }
        return result(reply);
    }

    @Override
    public DescriptorReply callForDescriptor(String operation, Map<String, String> params) throws HelperException {
        byte[] body = request(operation, params);
        DescriptorConnection.Received received;
        try {
            received = new DescriptorConnection(socket, timeout).exchange(body);
        } catch (NoClassDefFoundError e) {
            // the Linux natives bundle (imported optionally) resolves on Linux only
            throw new HelperException(HelperErrors.UNAVAILABLE, "receiving a descriptor from the helper works on Linux only");
        } catch (IOException e) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper on " + socket + " did not answer: " + e.getMessage(), e);
        }
        try {
            Map<String, Object> result = result(parse(received.body()));
            if (received.descriptor() < 0) {
                throw new HelperException(HelperErrors.FAILED, operation + " succeeded but passed no descriptor");
            }
            return new DescriptorReply(result, received.descriptor());
        } catch (HelperException | IOException e) {
            received.closeDescriptor();
            if (e instanceof HelperException he) {
                throw he;
            }
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper's reply is not valid: " + e.getMessage(), e);
        }
    }

    private byte[] request(String operation, Map<String, String> params) throws HelperException {
        HelperSchema.Operation op = HelperSchema.operation(operation)
                .orElseThrow(() -> new HelperException(HelperErrors.UNKNOWN_OPERATION, "unknown helper operation " + operation));
        for (Map.Entry<String, String> e : params.entrySet()) {
            HelperSchema.Param param = op.params().get(e.getKey());
            if (param == null) {
                throw new HelperException(HelperErrors.UNKNOWN_FIELD, operation + " takes no parameter " + e.getKey());
            }
            Optional<String> problem = param.type().problem(e.getValue());
            if (problem.isPresent()) {
                throw new HelperException(HelperErrors.INVALID, operation + ": \"" + e.getKey() + "\" " + problem.get());
            }
        }
        long id = ids.incrementAndGet();
        Map<String, Object> request = new LinkedHashMap<>();
        request.put(HelperProtocol.FIELD_VERSION, HelperProtocol.VERSION);
        request.put(HelperProtocol.FIELD_ID, id);
        request.put(HelperProtocol.FIELD_OPERATION, operation);
        request.put(HelperProtocol.FIELD_PARAMS, params);
        return gson.toJson(request).getBytes(StandardCharsets.UTF_8);
    }

    private Map<String, Object> result(JsonObject reply) throws HelperException {
        if (reply.has(HelperProtocol.FIELD_OK) && reply.get(HelperProtocol.FIELD_OK).getAsBoolean()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> result = gson.fromJson(reply.get(HelperProtocol.FIELD_RESULT), Map.class);
            return result == null ? Map.of() : result;
        }
        JsonObject error = reply.getAsJsonObject(HelperProtocol.FIELD_ERROR);
        throw new HelperException(error.get(HelperProtocol.FIELD_CODE).getAsString(), error.get(HelperProtocol.FIELD_MESSAGE).getAsString());
    }

    private SocketChannel connect() throws HelperException {
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (AccessDeniedException e) {
            throw new HelperException(HelperErrors.REFUSED, "no permission to use the helper's socket " + socket
                    + ": ask an administrator to add you to the helper's group (then log in again)");
        } catch (IOException e) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper is not running on " + socket
                    + " (" + e.getMessage() + "); an administrator installs it once with: sudo ./slipway helper install");
        }
    }

    private JsonObject readReply(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        ByteBuffer header = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES);
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            long deadline = System.nanoTime() + timeout.toNanos();
            readFully(channel, selector, header, deadline);
            int length = header.getInt(0);
            if (length <= 0 || length > HelperProtocol.MAX_MESSAGE_BYTES) {
                throw new IOException("the helper sent a message of " + Integer.toUnsignedString(length) + " bytes");
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(channel, selector, body, deadline);
            return parse(body.array());
        }
    }

    private static JsonObject parse(byte[] body) throws IOException {
        try {
            JsonReader reader = new JsonReader(new StringReader(new String(body, StandardCharsets.UTF_8)));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = JsonParser.parseReader(reader);
            if (!element.isJsonObject()) {
                throw new IOException("the helper's reply is not a JSON object");
            }
            return element.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException("the helper's reply is not valid: " + e.getMessage(), e);
        }
    }

    private static void readFully(SocketChannel channel, Selector selector, ByteBuffer buffer, long deadline) throws IOException {
        while (buffer.hasRemaining()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("no reply within the time limit");
            }
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
            if (channel.read(buffer) < 0) {
                throw new IOException("the helper closed the connection");
            }
        }
    }
}
