package dev.slipway.api.control;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An HTTP route on the control socket, for APIs whose shape is fixed by other tools (for example
 * gvisor-tap-vsock's {@code /services/forwarder/...}). Register it with {@value #PATH} set to the
 * exact path it serves; the control bundle passes matching requests to it.
 */
@ConsumerType
public interface ControlRoute {

    /** Service property: the exact request path, e.g. {@code /services/forwarder/all}. */
    String PATH = "slipway.route.path";

    /** A request: method, query parameters and the body as received. */
    record Request(String method, Map<String, String> query, byte[] body) {}

    /** A response: HTTP status, content type and body. */
    record Response(int status, String contentType, byte[] body) {

        /** The content type gvisor-tap-vsock's routes answer with: Go's {@code http.Error} text, and the JSON its encoder writes, sniffed as text. */
        public static final String PLAIN_TEXT = "text/plain; charset=utf-8";

        /** A {@value #PLAIN_TEXT} response. */
        public static Response plainText(int status, String text) {
            return new Response(status, PLAIN_TEXT, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    Response handle(Request request) throws Exception;
}
