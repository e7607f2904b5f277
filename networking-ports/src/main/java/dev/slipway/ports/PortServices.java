package dev.slipway.ports;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
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
import dev.slipway.api.control.StatusContributor;

/** The whiteboard services of published ports: commands, gvisor-tap-vsock's forwarder routes, status. */
final class PortServices {
    /** gvisor-tap-vsock answers with Go's defaults: {@code http.Error} text and sniffed JSON are both plain text. */
    static final String TEXT = "text/plain; charset=utf-8";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private PortServices() {
    }

    @Component(property = {ControlCommand.NAME + "=expose",
            ControlCommand.SUMMARY + "=publish a host port or socket into the guest: expose tcp|udp [HOSTIP:]PORT GUESTIP:PORT"})
    public static final class Expose implements ControlCommand {
        private final PortForwarder forwarder;

        @Activate
        public Expose(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public CommandResult execute(List<String> args) {
            return PortCommands.expose(forwarder, args);
        }
    }

    @Component(property = {ControlCommand.NAME + "=unexpose",
            ControlCommand.SUMMARY + "=stop publishing a host port: unexpose tcp|udp [HOSTIP:]PORT"})
    public static final class Unexpose implements ControlCommand {
        private final PortForwarder forwarder;

        @Activate
        public Unexpose(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public CommandResult execute(List<String> args) {
            return PortCommands.unexpose(forwarder, args);
        }
    }

    @Component(property = {ControlCommand.NAME + "=ports", ControlCommand.SUMMARY + "=list the published ports"})
    public static final class Ports implements ControlCommand {
        private final PortForwarder forwarder;

        @Activate
        public Ports(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public CommandResult execute(List<String> args) {
            return PortCommands.list(forwarder);
        }
    }

    @Component(property = StatusContributor.KEY + "=ports")
    public static final class Status implements StatusContributor {
        private final PortForwarder forwarder;

        @Activate
        public Status(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public Object status() {
            return forwarder.status();
        }
    }

    /** {@code GET /services/forwarder/all}: a JSON array of {local, remote, protocol}, newline-terminated like Go's encoder. */
    @Component(property = ControlRoute.PATH + "=/services/forwarder/all")
    public static final class All implements ControlRoute {
        private final PortForwarder forwarder;

        @Activate
        public All(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public Response handle(Request request) {
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
            return new Response(200, TEXT, s.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    @Component(property = ControlRoute.PATH + "=/services/forwarder/expose")
    public static final class ExposeRoute implements ControlRoute {
        private final PortForwarder forwarder;

        @Activate
        public ExposeRoute(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public Response handle(Request request) {
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
            return new Response(200, TEXT, new byte[0]);
        }
    }

    @Component(property = ControlRoute.PATH + "=/services/forwarder/unexpose")
    public static final class UnexposeRoute implements ControlRoute {
        private final PortForwarder forwarder;

        @Activate
        public UnexposeRoute(@Reference PortForwarder forwarder) {
            this.forwarder = forwarder;
        }

        @Override
        public Response handle(Request request) {
            Map<String, String> req;
            try {
                req = posted(request, "local", "protocol");
            } catch (IllegalArgumentException e) {
                return error(400, e.getMessage());
            }
            String protocol = req.get("protocol");
            try {
                forwarder.unexpose(protocol, req.get("local"));
            } catch (Exception e) {
                return error(500, e.getMessage());
            }
            return new Response(200, TEXT, new byte[0]);
        }
    }

    /** Go's {@code http.Error}: the message and a newline, plain text. */
    static ControlRoute.Response error(int status, String message) {
        return new ControlRoute.Response(status, TEXT, (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The fields of a forwarder request: POST only, then {@link #fields}, with an empty protocol
     * meaning tcp as in gvisor-tap-vsock. Refusals carry Go's error text.
     */
    static Map<String, String> posted(ControlRoute.Request request, String... names) {
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
