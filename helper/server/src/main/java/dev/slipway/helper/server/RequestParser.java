package dev.slipway.helper.server;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperProtocol;
import dev.slipway.api.helper.HelperSchema;

/**
 * Turns one payload into a validated request or a precise rejection. Gson's streaming reader in
 * strict mode does the tokenizing; on top of it this class builds plain values itself so that a
 * duplicate key (which Gson's tree model silently overwrites) is caught, and so that nesting is
 * bounded. Then the envelope and the parameters are checked against {@link HelperSchema}.
 */
final class RequestParser {

    private static final int MAX_DEPTH = 4;

    /** The outcome of parsing one payload. */
    sealed interface Parsed permits Request, Rejected {}

    record Request(long id, HelperSchema.Operation operation, Map<String, Object> params) implements Parsed {}

    /**
     * @param id the request id when it could be read, else -1
     * @param close whether the connection must be closed after the error reply (the stream can no
     *        longer be trusted)
     */
    record Rejected(long id, String code, String message, boolean close) implements Parsed {}

    Parsed parse(byte[] payload) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return new Rejected(-1, HelperErrors.MALFORMED, "the message is not UTF-8", true);
        }
        Object document;
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            reader.setStrictness(Strictness.STRICT);
            document = readValue(reader, 0);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                return new Rejected(-1, HelperErrors.MALFORMED, "trailing data after the JSON object", true);
            }
        } catch (DuplicateKeyException e) {
            return new Rejected(-1, HelperErrors.MALFORMED, e.getMessage(), true);
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            return new Rejected(-1, HelperErrors.MALFORMED, "the message is not one strict JSON object", true);
        }
        if (!(document instanceof Map<?, ?> envelope)) {
            return new Rejected(-1, HelperErrors.MALFORMED, "the message is not a JSON object", true);
        }
        return validate(envelope);
    }

    private Parsed validate(Map<?, ?> envelope) {
        long id = -1;
        Object rawId = envelope.get(HelperProtocol.FIELD_ID);
        if (rawId instanceof Long l && l >= 0) {
            id = l;
        } else {
            return new Rejected(-1, HelperErrors.INVALID, "\"id\" must be a non-negative integer", false);
        }
        Object version = envelope.get(HelperProtocol.FIELD_VERSION);
        if (!(version instanceof Long v)) {
            return new Rejected(id, HelperErrors.INVALID, "\"v\" (protocol version) is required", false);
        }
        if (v != HelperProtocol.VERSION) {
            return new Rejected(id, HelperErrors.UNSUPPORTED_VERSION,
                    "protocol version " + v + " is not supported; this helper speaks " + HelperProtocol.VERSION, false);
        }
        for (Object key : envelope.keySet()) {
            if (!List.of(HelperProtocol.FIELD_VERSION, HelperProtocol.FIELD_ID, HelperProtocol.FIELD_OPERATION,
                    HelperProtocol.FIELD_PARAMS).contains(key)) {
                return new Rejected(id, HelperErrors.UNKNOWN_FIELD, "unknown field \"" + printable(key) + "\"", false);
            }
        }
        Object rawOp = envelope.get(HelperProtocol.FIELD_OPERATION);
        if (!(rawOp instanceof String opName)) {
            return new Rejected(id, HelperErrors.INVALID, "\"op\" must be a string", false);
        }
        if (looksLikePath(opName)) {
            return new Rejected(id, HelperErrors.PATH_NOT_ALLOWED, "an operation is a name, never a path or command", false);
        }
        Optional<HelperSchema.Operation> operation = HelperSchema.operation(opName);
        if (operation.isEmpty()) {
            return new Rejected(id, HelperErrors.UNKNOWN_OPERATION, "unknown operation \"" + printable(opName) + "\"", false);
        }
        Object rawParams = envelope.containsKey(HelperProtocol.FIELD_PARAMS)
                ? envelope.get(HelperProtocol.FIELD_PARAMS) : Map.of();
        if (!(rawParams instanceof Map<?, ?> params)) {
            return new Rejected(id, HelperErrors.INVALID, "\"params\" must be an object", false);
        }
        // A path-like value anywhere is named as such, even under an unknown key, so a client that
        // tries to pass a file learns exactly why it was refused.
        Map<String, HelperSchema.Param> spec = operation.get().params();
        for (Map.Entry<?, ?> e : params.entrySet()) {
            HelperSchema.Param declared = spec.get(e.getKey());
            if (declared != null && declared.type().acceptsPath()) {
                continue;
            }
            if (containsPath(e.getValue())) {
                return new Rejected(id, HelperErrors.PATH_NOT_ALLOWED, "parameter \"" + printable(e.getKey())
                        + "\" holds a path; the helper takes no paths, file names or commands from clients", false);
            }
        }
        Map<String, Object> accepted = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : params.entrySet()) {
            HelperSchema.Param param = spec.get(e.getKey());
            if (param == null) {
                return new Rejected(id, HelperErrors.UNKNOWN_FIELD, opName + " takes no parameter \""
                        + printable(e.getKey()) + "\"", false);
            }
            Optional<String> problem = param.type().problem(e.getValue());
            if (problem.isPresent()) {
                return new Rejected(id, HelperErrors.INVALID, opName + ": \"" + param.name() + "\" " + problem.get(), false);
            }
            accepted.put(param.name(), e.getValue());
        }
        for (HelperSchema.Param param : spec.values()) {
            if (param.required() && !accepted.containsKey(param.name())) {
                return new Rejected(id, HelperErrors.INVALID, opName + " needs \"" + param.name() + "\"", false);
            }
        }
        return new Request(id, operation.get(), accepted);
    }

    static boolean looksLikePath(String s) {
        return s.indexOf('/') >= 0 || s.indexOf('\\') >= 0 || s.indexOf('\0') >= 0 || s.startsWith("~")
                || s.startsWith(".") || s.contains("..") || (s.length() > 1 && s.charAt(1) == ':');
    }

    private static boolean containsPath(Object value) {
        if (value instanceof String s) {
            return looksLikePath(s);
        }
        if (value instanceof Map<?, ?> m) {
            return m.values().stream().anyMatch(RequestParser::containsPath)
                    || m.keySet().stream().anyMatch(RequestParser::containsPath);
        }
        if (value instanceof List<?> l) {
            return l.stream().anyMatch(RequestParser::containsPath);
        }
        return false;
    }

    /** Client text echoed in an error, with control characters shown as escapes and bounded in length. */
    static String printable(Object value) {
        String s = String.valueOf(value);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length() && out.length() < 64; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return s.length() > 64 ? out + "..." : out.toString();
    }

    private static Object readValue(JsonReader reader, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new IOException("nested too deeply");
        }
        switch (reader.peek()) {
            case BEGIN_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                reader.beginObject();
                while (reader.hasNext()) {
                    String name = reader.nextName();
                    if (map.containsKey(name)) {
                        throw new DuplicateKeyException("duplicate field \"" + printable(name) + "\"");
                    }
                    map.put(name, readValue(reader, depth + 1));
                }
                reader.endObject();
                return map;
            }
            case BEGIN_ARRAY: {
                List<Object> list = new ArrayList<>();
                reader.beginArray();
                while (reader.hasNext()) {
                    list.add(readValue(reader, depth + 1));
                }
                reader.endArray();
                return list;
            }
            case STRING:
                return reader.nextString();
            case NUMBER: {
                String n = reader.nextString();
                try {
                    return Long.parseLong(n);
                } catch (NumberFormatException e) {
                    return Double.parseDouble(n);
                }
            }
            case BOOLEAN:
                return reader.nextBoolean();
            case NULL:
                reader.nextNull();
                return null;
            default:
                throw new IOException("unexpected " + reader.peek());
        }
    }

    private static final class DuplicateKeyException extends IOException {
        private static final long serialVersionUID = 1L;

        DuplicateKeyException(String message) {
            super(message);
        }
    }
}
