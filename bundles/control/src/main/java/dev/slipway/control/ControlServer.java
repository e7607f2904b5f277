package dev.slipway.control;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.ControlRoute;
import dev.slipway.api.control.SocketPath;
import dev.slipway.api.control.StatusContributor;

/**
 * Serves the control API (HTTP + JSON, Jetty) on {@code control.sock} in the user's runtime
 * directory, readable and writable by the user alone. Commands, routes and status sections come
 * from whiteboard services, so a bundle that adds a feature adds its CLI and API with it.
 */
@Component(service = {})
public final class ControlServer {

    static final String SOCKET_NAME = "control.sock";

    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    // Package-private for tests, which set them as DS does. The dynamic lists start empty: the
    // server starts on its own thread in the constructor, before DS injects the fields.
    @Reference
    ServiceComponentRuntime scr;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    volatile List<Map.Entry<Map<String, Object>, ControlCommand>> commands = List.of();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    volatile List<Map.Entry<Map<String, Object>, ControlRoute>> routes = List.of();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    volatile List<Map.Entry<Map<String, Object>, StatusContributor>> contributors = List.of();

    private final Gson gson = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private final BundleContext context;
    private final RuntimeStatus runtimeStatus;
    private final Path socket;
    private final Thread starter;
    private volatile Server server;

    @Activate
    public ControlServer(BundleContext context) throws Exception {
        this.context = context;
        this.runtimeStatus = new RuntimeStatus(context);
        String dir = context.getProperty("slipway.runtime.dir");
        if (dir == null) {
            throw new IllegalStateException("framework property slipway.runtime.dir is not set");
        }
        Path runtimeDir = Path.of(dir);
        Files.createDirectories(runtimeDir);
        restrictToOwner(runtimeDir, "rwx------");
        socket = runtimeDir.resolve(SOCKET_NAME);
        SocketPath.claim(socket);

        starter = new Thread(this::startServer, "slipway-control-start");
        starter.setDaemon(true);
        starter.start();
    }

    /**
     * Builds and starts Jetty on a thread of its own, so the rest of the runtime starts meanwhile
     * (Jetty's start is one of the longest steps of a runtime start); the control socket exists
     * once it is serving, which is what the CLI waits for. Then answers one status request
     * in-process: the first request runs a lot of cold code (Jetty's request path, the status
     * snapshot, JSON), and the first real one is the CLI waiting for {@code ready}.
     */
    private void startServer() {
        QueuedThreadPool threads = new QueuedThreadPool(8, 1);
        threads.setName("slipway-control");
        Server jetty = new Server(threads);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(jetty, 1, 1);
        connector.setUnixDomainPath(socket);
        jetty.addConnector(connector);
        jetty.setHandler(new Router());
        try {
            jetty.start();
            restrictToOwner(socket, "rw-------");
        } catch (Exception e) {
            LOG.error("the control API could not start on {}", socket, e);
            stopQuietly(jetty);
            return;
        }
        server = jetty;
        LOG.info("control API listening on {}", socket);
        LocalConnector local = new LocalConnector(jetty);
        try {
            jetty.addConnector(local);
            local.start();
            local.getResponse("GET /status HTTP/1.1\r\nHost: slipway\r\nConnection: close\r\n\r\n");
        } catch (Exception e) {
            LOG.debug("warming up the status route failed", e);
        } finally {
            stopQuietly(local);
            jetty.removeConnector(local);
        }
    }

    private static void stopQuietly(org.eclipse.jetty.util.component.LifeCycle component) {
        try {
            component.stop();
        } catch (Exception e) {
            LOG.debug("stopping {} failed", component, e);
        }
    }

    /** Waits until the start on the server's own thread has finished (served or failed). */
    void awaitStart() throws InterruptedException {
        starter.join(30_000);
    }

    @Deactivate
    void deactivate() throws Exception {
        awaitStart();
        Server jetty = server;
        if (jetty != null) {
            jetty.stop();
        }
        Files.deleteIfExists(socket);
    }

    private static void restrictToOwner(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the platform's own ACLs of the user profile apply
        }
    }

    private final class Router extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = request.getHttpURI().getPath();
            String method = request.getMethod();
            Reply reply;
            try {
                reply = route(method, path, request, readBody(request));
            } catch (BodyTooLargeException e) {
                reply = error(413, e.getMessage());
            } catch (Exception e) {
                LOG.warn("control API: {} {} failed", method, path, e);
                reply = error(500, String.valueOf(e));
            }
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
            response.write(true, ByteBuffer.wrap(reply.body()), callback);
            return true;
        }
    }

    private record Reply(int status, String contentType, byte[] body) {}

    static final int MAX_BODY = 1 << 20;

    private static final class BodyTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        BodyTooLargeException() {
            super("request body larger than " + MAX_BODY + " bytes");
        }
    }

    /** The body, at most {@link #MAX_BODY} bytes whether its length is declared or it comes in chunks. */
    private static byte[] readBody(Request request) throws IOException {
        if (request.getLength() > MAX_BODY) {
            throw new BodyTooLargeException();
        }
        byte[] bytes = Content.Source.asInputStream(request).readNBytes(MAX_BODY + 1);
        if (bytes.length > MAX_BODY) {
            throw new BodyTooLargeException();
        }
        return bytes;
    }

    private Reply json(int status, Object value) {
        return new Reply(status, "application/json", gson.toJson(value).getBytes(StandardCharsets.UTF_8));
    }

    private Reply error(int status, String message) {
        return json(status, Map.of("error", message));
    }

    private Reply route(String method, String path, Request request, byte[] body) throws Exception {
        for (Map.Entry<Map<String, Object>, ControlRoute> entry : routes) {
            if (path.equals(entry.getKey().get(ControlRoute.PATH))) {
                Map<String, String> query = new HashMap<>();
                Request.extractQueryParameters(request).forEach(field -> query.put(field.getName(), field.getValue()));
                ControlRoute.Response r = entry.getValue().handle(new ControlRoute.Request(method, query, body));
                return new Reply(r.status(), r.contentType(), r.body());
            }
        }
        if (path.equals("/status") && method.equals("GET")) {
            return json(200, status());
        }
        if (path.equals("/commands") && method.equals("GET")) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Map.Entry<Map<String, Object>, ControlCommand> entry : commands) {
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("name", entry.getKey().get(ControlCommand.NAME));
                item.put("summary", entry.getKey().getOrDefault(ControlCommand.SUMMARY, ""));
                list.add(item);
            }
            return json(200, list);
        }
        if (path.startsWith("/commands/") && method.equals("POST")) {
            return runCommand(path.substring("/commands/".length()), body);
        }
        if (path.equals("/shutdown") && method.equals("POST")) {
            Thread stopper = new Thread(this::stopFramework, "slipway-shutdown");
            stopper.start();
            return json(202, Map.of("stopping", true));
        }
        return error(404, "no such endpoint: " + method + " " + path);
    }

    private Map<String, Object> status() {
        Map<String, Object> status = runtimeStatus.snapshot(scr);
        for (Map.Entry<Map<String, Object>, StatusContributor> entry : contributors) {
            Object key = entry.getKey().get(StatusContributor.KEY);
            if (key == null || status.containsKey(key.toString())) {
                continue;
            }
            try {
                status.put(key.toString(), entry.getValue().status());
            } catch (RuntimeException e) {
                status.put(key.toString(), Map.of("error", String.valueOf(e)));
            }
        }
        return status;
    }

    private Reply runCommand(String name, byte[] body) {
        List<String> args = new ArrayList<>();
        try {
            JsonElement parsed = body.length == 0 ? new JsonObject() : JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
            if (parsed.isJsonObject() && parsed.getAsJsonObject().has("args")) {
                JsonElement array = parsed.getAsJsonObject().get("args");
                if (!array.isJsonArray()) {
                    throw new IllegalStateException("args is not an array");
                }
                array.getAsJsonArray().forEach(element -> args.add(element.getAsString()));
            }
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
            return error(400, "the body must be {\"args\":[\"...\"]}: " + e.getMessage());
        }
        for (Map.Entry<Map<String, Object>, ControlCommand> entry : commands) {
            if (name.equals(entry.getKey().get(ControlCommand.NAME))) {
                CommandResult result;
                try {
                    result = entry.getValue().execute(List.copyOf(args));
                } catch (Exception e) {
                    LOG.warn("command {} {} failed", name, args, e);
                    result = CommandResult.failure(name + ": " + e);
                }
                Map<String, Object> reply = new LinkedHashMap<>();
                reply.put("out", result.out());
                reply.put("err", result.err());
                reply.put("exitCode", result.exitCode());
                return json(200, reply);
            }
        }
        return error(404, "unknown command: " + name);
    }

    private void stopFramework() {
        try {
            context.getBundle(0).stop();
        } catch (BundleException | IllegalStateException e) {
            LOG.error("could not stop the framework", e);
        }
    }
}
