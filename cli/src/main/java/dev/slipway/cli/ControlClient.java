package dev.slipway.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

import dev.slipway.unixhttp.UnixDomainSocketFactory;

/** The control API as the CLI sees it: HTTP + JSON over the runtime's Unix domain socket, with OkHttp. */
final class ControlClient {

    /** The runtime is not running (no socket, or nobody accepts on it). */
    static final class NotRunningException extends IOException {
        private static final long serialVersionUID = 1L;

        NotRunningException(String message) {
            super(message);
        }
    }

    /** An answer of the control API: status code and body. */
    record Answer(int status, JsonElement body) {}

    private static final MediaType JSON = MediaType.get("application/json");

    private final Path socket;
    private final Duration timeout;
    private final Gson gson = new Gson();
    private OkHttpClient http;

    ControlClient(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /**
     * The OkHttp client, built on first use: loading OkHttp and Kotlin is most of a short command's
     * time, so commands that find nothing listening never pay for it, and {@code up} builds it
     * while the runtime starts.
     */
    synchronized OkHttpClient http() {
        if (http == null) {
            http = new OkHttpClient.Builder()
                    .socketFactory(new UnixDomainSocketFactory(socket))
                    // plain HTTP over the socket only: OkHttp then never loads the TLS trust store
                    .connectionSpecs(List.of(okhttp3.ConnectionSpec.CLEARTEXT))
                    .dns(hostname -> List.of(InetAddress.getLoopbackAddress()))
                    .retryOnConnectionFailure(false)
                    .connectTimeout(timeout)
                    .readTimeout(timeout)
                    .callTimeout(timeout)
                    .build();
        }
        return http;
    }

    /**
     * Runs OkHttp's and Gson's code once before it is needed (while {@code up} waits for the
     * runtime): one request that may well find nothing listening yet, and one JSON document.
     */
    void warmUp() {
        try (Response response = http().newCall(new Request.Builder().url("http://slipway/status").get().build()).execute()) {
            response.body().string();
        } catch (IOException | RuntimeException e) {
            // expected while the runtime starts
        }
        JsonParser.parseString("{\"ready\":false,\"bundles\":[{\"id\":1,\"state\":\"ACTIVE\"}],\"memory\":{\"heapUsedBytes\":1.5}}");
    }

    /** Whether something accepts connections on the control socket (a plain connect, no HTTP). */
    boolean accepting() {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false;
        }
    }

    Path socket() {
        return socket;
    }

    JsonObject status() throws IOException {
        return get("/status").body().getAsJsonObject();
    }

    Answer get(String path) throws IOException {
        return call(new Request.Builder().url("http://slipway" + path).get().build());
    }

    Answer post(String path, Object body) throws IOException {
        RequestBody content = RequestBody.create(gson.toJson(body), JSON);
        return call(new Request.Builder().url("http://slipway" + path).post(content).build());
    }

    Answer command(String name, List<String> args) throws IOException {
        return post("/commands/" + name, Map.of("args", args));
    }

    private Answer call(Request request) throws IOException {
        if (!Files.exists(socket)) {
            throw new NotRunningException("no control socket at " + socket);
        }
        if (!accepting()) {
            throw new NotRunningException("nothing accepts on " + socket);
        }
        try (Response response = http().newCall(request).execute()) {
            String text = response.body().string();
            JsonElement body;
            try {
                body = text.isEmpty() ? new JsonObject() : JsonParser.parseString(text);
            } catch (JsonParseException e) {
                throw new IOException("the control API answered " + response.code() + " with something that is not JSON: "
                        + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
            }
            return new Answer(response.code(), body);
        } catch (java.net.ConnectException e) {
            throw new NotRunningException("nothing accepts on " + socket + " (" + e.getMessage() + ")");
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Connection refused")) {
                throw new NotRunningException("nothing accepts on " + socket);
            }
            throw e;
        }
    }

    synchronized void close() {
        if (http != null) {
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
    }
}
