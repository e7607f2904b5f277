package dev.slipway.helper.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import dev.slipway.api.helper.HelperProtocol;

/** Encodes replies as length-prefixed JSON frames. */
final class Replies {

    private final Gson gson = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    ByteBuffer ok(long id, Map<String, Object> result) {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put(HelperProtocol.FIELD_VERSION, HelperProtocol.VERSION);
        reply.put(HelperProtocol.FIELD_ID, id);
        reply.put(HelperProtocol.FIELD_OK, true);
        reply.put(HelperProtocol.FIELD_RESULT, result);
        return frame(reply);
    }

    ByteBuffer error(long id, String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put(HelperProtocol.FIELD_CODE, code);
        error.put(HelperProtocol.FIELD_MESSAGE, message);
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put(HelperProtocol.FIELD_VERSION, HelperProtocol.VERSION);
        reply.put(HelperProtocol.FIELD_ID, id);
        reply.put(HelperProtocol.FIELD_OK, false);
        reply.put(HelperProtocol.FIELD_ERROR, error);
        return frame(reply);
    }

    String json(Object value) {
        return gson.toJson(value);
    }

    private ByteBuffer frame(Map<String, Object> reply) {
        byte[] body = gson.toJson(reply).getBytes(StandardCharsets.UTF_8);
        if (body.length > HelperProtocol.MAX_MESSAGE_BYTES) {
            long id = ((Number) reply.get(HelperProtocol.FIELD_ID)).longValue();
            return error(id, "failed", "the reply would exceed the protocol's message size");
        }
        ByteBuffer frame = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + body.length);
        frame.putInt(body.length).put(body).flip();
        return frame;
    }
}
