package dev.slipway.networking.ports;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.ControlRoute;
import dev.slipway.api.control.ControlRoute.Request;
import dev.slipway.api.control.ControlRoute.Response;
import dev.slipway.api.control.StatusContributor;

/**
 * The whiteboard services of published ports: commands, gvisor-tap-vsock's forwarder routes, status. They
 * all serve the one forwarder, so one component registers them all rather than one component each.
 */
@Component(service = {})
public final class PortServices {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    private final PortForwarder forwarder;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    /** The routes' handlers alone, registered nowhere. */
    PortServices(PortForwarder forwarder) {
        this.forwarder = forwarder;
    }

    @Activate
    public PortServices(@Reference PortForwarder forwarder, BundleContext context) {
        this(forwarder);
        command(context, "expose", "publish a host port or socket into the guest: expose tcp|udp [HOSTIP:]PORT GUESTIP:PORT",
                args -> PortCommands.expose(forwarder, args));
        command(context, "unexpose", "stop publishing a host port: unexpose tcp|udp [HOSTIP:]PORT",
                args -> PortCommands.unexpose(forwarder, args));
        command(context, "ports", "list the published ports", args -> PortCommands.list(forwarder));
        register(context, StatusContributor.class, forwarder::status, Map.of(StatusContributor.KEY, "ports"));
        route(context, "/services/forwarder/all", this::all);
        route(context, "/services/forwarder/expose", this::expose);
        route(context, "/services/forwarder/unexpose", this::unexpose);
    }

    @Deactivate
    void deactivate() {
        registrations.forEach(ServiceRegistration::unregister);
        registrations.clear();
    }

    private void command(BundleContext context, String name, String summary, ControlCommand command) {
        register(context, ControlCommand.class, command, Map.of(ControlCommand.NAME, name, ControlCommand.SUMMARY, summary));
    }

    private void route(BundleContext context, String path, ControlRoute route) {
        register(context, ControlRoute.class, route, Map.of(ControlRoute.PATH, path));
    }

    private <S> void register(BundleContext context, Class<S> type, S service, Map<String, Object> properties) {
        registrations.add(context.registerService(type, service, new Hashtable<>(properties)));
    }

    /** {@code GET /services/forwarder/all}: a JSON array of {local, remote, protocol}, newline-terminated like Go's encoder. */
    Response all(Request request) {
        StringBuilder s = new StringBuilder("[");
        for (PublishedPort p : forwarder.list()) {
            if (s.length() > 1) {
                s.append(',');
            }
            JsonObject o = new JsonObject();
            o.addProperty("local", p.local());
            o.addProperty("remote", p.remote());
            o.addProperty("protocol", p.protocol());
            s.append(GSON.toJson(o));
        }
        s.append("]\n");
        return Response.plainText(200, s.toString());
    }

    /** {@code POST /services/forwarder/expose}. */
    Response expose(Request request) {
        Map<String, String> req;
        try {
            req = posted(request, "local", "remote", "protocol");
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        String protocol = req.get("protocol");
        PublishedPort port = new PublishedPort(protocol, req.get("local"), req.get("remote"));
        if (PublishedPort.TCP.equals(protocol) || PublishedPort.UDP.equals(protocol)) {
            try {
                port.remoteAddress();
            } catch (IllegalArgumentException e) {
                return error(400, e.getMessage());
            }
        }
        try {
            forwarder.expose(port, forwarder.allowAllAddresses());
        } catch (Exception e) {
            return error(500, e.getMessage());
        }
        return Response.plainText(200, "");
    }

    /** {@code POST /services/forwarder/unexpose}. */
    Response unexpose(Request request) {
        Map<String, String> req;
        try {
            req = posted(request, "local", "protocol");
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        try {
            forwarder.unexpose(req.get("protocol"), req.get("local"));
        } catch (Exception e) {
            return error(500, e.getMessage());
        }
        return Response.plainText(200, "");
    }

    /** Go's {@code http.Error}: the message and a newline, plain text. */
    static Response error(int status, String message) {
        return Response.plainText(status, message + "\n");
    }

    /**
     * The fields of a forwarder request: POST only, then {@link #fields}, with an empty protocol
     * meaning tcp as in gvisor-tap-vsock. Refusals carry Go's error text.
     */
    static Map<String, String> posted(Request request, String... names) {
        if (!"POST".equals(request.method())) {
            throw new IllegalArgumentException("post only");
        }
        Map<String, String> fields = fields(request.body(), names);
        if (fields.containsKey("protocol") && fields.get("protocol").isEmpty()) {
            fields.put("protocol", PublishedPort.TCP);
        }
        return fields;
    }

    /** The string fields of a JSON object (missing ones empty, as Go decodes them); other fields are ignored. */
    static Map<String, String> fields(byte[] body, String... names) {
        JsonElement e;
        try {
            e = JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
        } catch (JsonParseException ex) {
            throw new IllegalArgumentException("invalid JSON: " + ex.getMessage());
        }
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException(e.isJsonNull() ? "EOF" : "json: cannot unmarshal " + kind(e) + " into Go value of type types.ExposeRequest");
        }
        JsonObject o = e.getAsJsonObject();
        java.util.HashMap<String, String> m = new java.util.HashMap<>();
        for (String n : names) {
            JsonElement v = o.get(n);
            if (v == null || v.isJsonNull()) {
                m.put(n, "");
            } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
                m.put(n, v.getAsString());
            } else {
                throw new IllegalArgumentException("json: cannot unmarshal " + kind(v) + " into Go struct field ." + n + " of type string");
            }
        }
        return m;
    }

    private static String kind(JsonElement e) {
        if (e.isJsonArray()) {
            return "array";
        }
        if (e.isJsonObject()) {
            return "object";
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            return "number";
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
            return "bool";
        }
        return "string";
    }
}
